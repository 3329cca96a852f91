import { addon } from '../binding.js';
import { fromNativeError, invalidArgument } from '../errors.js';
import type { GgufInfo } from './types.js';

/**
 * Reads a GGUF file's version, metadata (every key, with type and value) and tensor table, using
 * ggml's own gguf reader on a worker thread. Rejects with ERR_IO when the file cannot be opened and
 * ERR_MODEL_FORMAT when it is not a well-formed GGUF file.
 */
export async function readGgufInfo(path: string): Promise<GgufInfo> {
  if (typeof path !== 'string' || path.length === 0) throw invalidArgument('path', 'a non-empty string', path);
  if (path.includes('\0')) throw invalidArgument('path', 'a path without NUL characters', path);
  try {
    return await addon().readGgufInfo(path);
  } catch (error) {
    throw fromNativeError(error);
  }
}
