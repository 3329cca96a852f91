// Loads the native addon once, lazily, and says how to fix it when it cannot be loaded.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { locateAddon, packageRoot, platformPackageName, type AddonLocation } from './addon-location.js';
import { MoondreamError } from './errors.js';
import type { NativeAddon } from './native-types.js';

const REBUILD = 'npm run build:native';

/** Where the addon is (src/addon-location.ts says in which order it looks). */
export function addonPath(): string {
  return locateAddon().path;
}

/** Turns a failed require() of the addon into an error that names the fix. */
export function explainLoadFailure(path: string, error: unknown): MoondreamError {
  const detail = error instanceof Error ? error.message : String(error);
  if (!existsSync(path)) {
    return new MoondreamError('ERR_NATIVE_ADDON',
      `The moondream-ggml native addon is not built (no file at ${path}), and no prebuilt binary is installed ` +
      `(${platformPackageName()}: reinstall with --include=optional where optional dependencies were omitted). ` +
      `Run \`${REBUILD}\` in ${packageRoot} (needs a C++17 compiler, CMake >= 3.19 and git).`, { cause: error });
  }
  if (/NODE_MODULE_VERSION|compiled against a different Node\.js version/.test(detail)) {
    return new MoondreamError('ERR_NATIVE_ADDON',
      `The moondream-ggml native addon at ${path} was built for another Node.js version ` +
      `(this is Node ${process.version}, ABI ${process.versions.modules}). Rebuild it with \`${REBUILD}\` ` +
      `(or \`npm rebuild moondream-ggml\` where it is a dependency).`, { cause: error });
  }
  return new MoondreamError('ERR_NATIVE_ADDON',
    `The moondream-ggml native addon at ${path} could not be loaded: ${detail}. ` +
    `Rebuild it with \`${REBUILD}\`.`, { cause: error });
}

let loaded: { addon: NativeAddon; location: AddonLocation } | undefined;

function load(): { addon: NativeAddon; location: AddonLocation } {
  if (loaded) return loaded;
  const location = locateAddon();
  const require = createRequire(import.meta.url);
  try {
    loaded = { addon: require(location.path) as NativeAddon, location };
  } catch (error) {
    throw explainLoadFailure(location.path, error);
  }
  return loaded;
}

export function addon(): NativeAddon {
  return load().addon;
}

/** The file the addon was loaded from, and why that one (loads it if nothing has yet). */
export function addonLocation(): AddonLocation {
  return load().location;
}
