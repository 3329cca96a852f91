import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Runs a helper script (compiled next to this file) in a child process and parses the JSON line
 * it prints last. An abort inside native code then fails one test instead of killing the test
 * runner: the promise rejects with the signal and stderr if the child did not exit cleanly.
 */
export function runIsolated<T>(script: string, args: readonly string[], what: string, timeoutMs: number): Promise<T> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path, ...args], { stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
    child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString(); });
    child.on('error', reject);
    child.on('close', (status, signal) => {
      if (status !== 0 || signal !== null) {
        reject(new Error(`${what} killed the process (status ${status}, signal ${signal}): ${stderr.slice(-2000)}`));
        return;
      }
      try {
        resolve(JSON.parse(stdout.trim().split('\n').pop() ?? '') as T);
      } catch {
        reject(new Error(`unexpected child output: ${stdout} ${stderr}`));
      }
    });
  });
}

export interface IsolatedOutcome {
  ok: boolean;
  code?: string;
  message?: string;
  tensors?: number;
  metadata?: number;
}

/** Reads a GGUF file with readGgufInfo in a child process. */
export function readGgufIsolated(path: string, timeoutMs = 30_000): Promise<IsolatedOutcome> {
  return runIsolated<IsolatedOutcome>('./read-gguf-child.js', [path], `reading ${path}`, timeoutMs);
}
