import { runIsolated } from './isolated.js';

export interface PreprocessOutcome {
  ok: boolean;
  code?: string;
  message?: string;
  length?: number;
  min?: number;
  max?: number;
}

/**
 * Runs preprocessImage on a file in a child process, so that an abort in a decoder fails one
 * test instead of killing the runner. `as` 'bytes' passes the file's contents instead of its path.
 */
export function preprocessIsolated(path: string, as: 'path' | 'bytes' = 'bytes', options: object = {},
  timeoutMs = 60_000): Promise<PreprocessOutcome> {
  return runIsolated<PreprocessOutcome>('./preprocess-image-child.js', [path, as, JSON.stringify(options)], `preprocessing ${path}`, timeoutMs);
}
