// The name of the prebuilt-binary package for this machine, as the install and packing scripts
// see it. src/addon-location.ts computes the same at run time (test/unit/addon-location.test.ts
// checks that they agree).
//   linux-x64-gnu, linux-x64-musl, linux-arm64-gnu, darwin-arm64, darwin-x64, win32-x64
export const PLATFORM_SCOPE = '@moondream-ggml';
export const ADDON_FILE = 'moondream_ggml.node';

/** glibc or musl, for Linux; undefined elsewhere. */
export function linuxLibc() {
  if (process.platform !== 'linux') return undefined;
  const header = process.report?.getReport?.().header;
  return header && header.glibcVersionRuntime ? 'gnu' : 'musl';
}

export function platformId() {
  const libc = linuxLibc();
  return `${process.platform}-${process.arch}${libc ? `-${libc}` : ''}`;
}

export function platformPackageName() {
  return `${PLATFORM_SCOPE}/${platformId()}`;
}
