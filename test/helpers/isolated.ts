import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface IsolatedOutcome {
  ok: boolean;
  code?: string;
  message?: string;
  tensors?: number;
  metadata?: number;
}

/**
 * Reads a GGUF file in a child process, so that an abort inside ggml fails one test instead of
 * killing the test runner. Rejects (with the signal and stderr) if the child did not exit cleanly.
 */
export function readGgufIsolated(path: string, timeoutMs = 30_000): Promise<IsolatedOutcome> {
  const script = fileURLToPath(new URL('./read-gguf-child.js', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, path], { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (status, signal) => {
      if (status !== 0 || signal !== null) {
        reject(new Error(`reading ${path} killed the process (status ${status}, signal ${signal}): ${stderr.slice(-2000)}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as IsolatedOutcome);
      } catch {
        reject(new Error(`unexpected child output: ${stdout} ${stderr}`));
      }
    });
  });
}
