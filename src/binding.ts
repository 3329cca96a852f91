// Loads the native addon once, lazily, and says how to fix it when it cannot be loaded.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MoondreamError } from './errors.js';
import type { NativeAddon } from './native-types.js';

const packageRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const REBUILD = 'npm run build:native';

/** Where the addon is: MOONDREAM_GGML_ADDON overrides (sanitizer builds), else build/Release. */
export function addonPath(): string {
  return process.env.MOONDREAM_GGML_ADDON ?? join(packageRoot, 'build', 'Release', 'moondream_ggml.node');
}

/** Turns a failed require() of the addon into an error that names the fix. */
export function explainLoadFailure(path: string, error: unknown): MoondreamError {
  const detail = error instanceof Error ? error.message : String(error);
  if (!existsSync(path)) {
    return new MoondreamError('ERR_NATIVE_ADDON',
      `The moondream-ggml native addon is not built (no file at ${path}). ` +
      `Run \`${REBUILD}\` in ${packageRoot} (needs a C++17 compiler and CMake >= 3.19).`, { cause: error });
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

let loaded: NativeAddon | undefined;

export function addon(): NativeAddon {
  if (loaded) return loaded;
  const path = addonPath();
  const require = createRequire(import.meta.url);
  try {
    loaded = require(path) as NativeAddon;
  } catch (error) {
    throw explainLoadFailure(path, error);
  }
  return loaded;
}
