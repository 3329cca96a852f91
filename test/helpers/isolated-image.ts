import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

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
  const script = fileURLToPath(new URL('./preprocess-image-child.js', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, path, as, JSON.stringify(options)],
      { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (status, signal) => {
      if (status !== 0 || signal !== null) {
        reject(new Error(`preprocessing ${path} killed the process (status ${status}, signal ${signal}): ${stderr.slice(-2000)}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as PreprocessOutcome);
      } catch {
        reject(new Error(`unexpected child output: ${stdout} ${stderr}`));
      }
    });
  });
}
