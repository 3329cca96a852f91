// `moondream-ggml serve` as a child process on a free port, its stderr collected line by line.
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname } from 'node:path';
import { tinyPair } from './tiny-model.js';

const CLI = new URL('../../src/cli/main.js', import.meta.url).pathname;

export interface ChildServer {
  url: string;
  port: number;
  proc: ChildProcess;
  lines: string[];
  exited: Promise<number | null>;
  /** Sends a signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function tinyModelDir(): Promise<string> {
  return dirname((await tinyPair('q8_0', 'f16')).textPath);
}

export async function spawnServe(args: readonly string[] = [], env: NodeJS.ProcessEnv = {}): Promise<ChildServer> {
  const proc = spawn(process.execPath, [CLI, 'serve', '--model', await tinyModelDir(), '--port', '0', '--threads', '2', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env },
  });
  const lines: string[] = [];
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  // Never outlive the test process (callers stop it themselves in their after hooks).
  const reap = () => { if (proc.exitCode === null) proc.kill('SIGKILL'); };
  process.once('exit', reap);
  void exited.then(() => process.off('exit', reap));
  let buffer = '';
  const listening = new Promise<string>((resolve, reject) => {
    proc.stderr!.setEncoding('utf8');
    proc.stderr!.on('data', (text: string) => {
      buffer += text;
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        lines.push(line);
        const match = /listening on (http:\/\/\S+)/.exec(line);
        if (match) resolve(match[1]!);
      }
    });
    void exited.then((code) => reject(new Error(`serve exited with ${code} before listening:\n${lines.join('\n')}`)));
  });
  const url = await listening;
  for (;;) {
    const status = await fetch(`${url}/health`).then((r) => r.status, () => 0);
    if (status === 200) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url, port: Number(new URL(url).port), proc, lines, exited,
    stop: async (signal: NodeJS.Signals = 'SIGTERM') => {
      if (proc.exitCode === null) proc.kill(signal);
      return exited;
    },
  };
}
