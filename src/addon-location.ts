// Which native addon file this process loads, and where it came from:
//   1. MOONDREAM_GGML_BINARY (MOONDREAM_GGML_ADDON, its older name, still works): that file;
//   2. build/Release/moondream_ggml.node: a build from source (this clone's, or an install's
//      fallback build when no prebuilt binary loaded);
//   3. the prebuilt binary of the platform package, @moondream-ggml/<platform>, which npm installs
//      as an optional dependency. Found here at run time, so it works even where npm skipped our
//      install script.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ADDON_FILE = 'moondream_ggml.node';
export const sourceBuildPath = join(packageRoot, 'build', 'Release', ADDON_FILE);

export interface AddonLocation {
  path: string;
  /** 'MOONDREAM_GGML_BINARY', 'source build', or the platform package as name@version. */
  origin: string;
}

/** linux-x64-gnu, linux-arm64-musl, darwin-arm64, win32-x64, ... (scripts/platform-package.mjs agrees). */
export function platformId(): string {
  let libc = '';
  if (process.platform === 'linux') {
    const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
    libc = header?.glibcVersionRuntime ? '-gnu' : '-musl';
  }
  return `${process.platform}-${process.arch}${libc}`;
}

export function platformPackageName(): string {
  return `@moondream-ggml/${platformId()}`;
}

/** The installed platform package's addon, if there is one. */
export function prebuiltAddon(): AddonLocation | undefined {
  const name = platformPackageName();
  let manifest: string;
  try {
    manifest = createRequire(join(packageRoot, 'package.json')).resolve(`${name}/package.json`);
  } catch {
    return undefined;
  }
  const path = join(dirname(manifest), ADDON_FILE);
  if (!existsSync(path)) return undefined;
  const { version } = JSON.parse(readFileSync(manifest, 'utf8')) as { version: string };
  return { path, origin: `${name}@${version}` };
}

export function locateAddon(): AddonLocation {
  const override = process.env.MOONDREAM_GGML_BINARY || process.env.MOONDREAM_GGML_ADDON;
  if (override) return { path: resolve(override), origin: 'MOONDREAM_GGML_BINARY' };
  if (existsSync(sourceBuildPath)) return { path: sourceBuildPath, origin: 'source build' };
  return prebuiltAddon() ?? { path: sourceBuildPath, origin: 'source build' };
}
