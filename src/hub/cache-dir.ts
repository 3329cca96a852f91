// Where pulled models live: ${XDG_CACHE_HOME or ~/.cache}/moondream-ggml/models/moondream1-<rev7>/.
// The same rule on every platform (as huggingface_hub does), so the path is easy to predict.
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';

/** The package's cache root. XDG says a relative XDG_CACHE_HOME is invalid and must be ignored. */
export function defaultCacheDir(): string {
  const xdg = process.env.XDG_CACHE_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(homedir(), '.cache');
  return join(base, 'moondream-ggml');
}

/** One folder per source revision: a different revision never overwrites another's files. */
export function modelDirFor(cacheDir: string, commit: string): string {
  return join(cacheDir, 'models', `moondream1-${commit.slice(0, 7)}`);
}

/** The downloaded Hugging Face files, kept beside the GGUF pair (unless pruned). */
export function hfDirFor(modelDir: string): string {
  return join(modelDir, 'hf');
}
