// Runs a program and measures it from outside: wall time, peak RSS (the kernel's VmHWM high-water
// mark, read from /proc while it runs), and when each output line arrived. llama.cpp's tools print
// stage timings only at some log levels; arrival times give the stages a common clock.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

export interface TimedLine {
  /** Milliseconds since the process was started. */
  ms: number;
  stream: 'stdout' | 'stderr';
  text: string;
}

export interface MeasuredRun {
  status: number | null;
  wallMs: number;
  peakRssBytes: number;
  lines: TimedLine[];
  stdout: string;
  stderr: string;
}

function highWaterMark(pid: number): number | null {
  try {
    const m = /^VmHWM:\s*(\d+)\s*kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;  // exited, or no /proc
  }
}

export function runMeasured(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<MeasuredRun> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: options.env ?? process.env });
    const lines: TimedLine[] = [];
    const text = { stdout: '', stderr: '' };
    const partial = { stdout: '', stderr: '' };
    let peak = 0;
    const sample = () => {
      if (child.pid !== undefined) peak = Math.max(peak, highWaterMark(child.pid) ?? 0);
    };
    const poll = setInterval(sample, 20);
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    for (const stream of ['stdout', 'stderr'] as const) {
      child[stream].setEncoding('utf8');
      child[stream].on('data', (chunk: string) => {
        const ms = performance.now() - start;
        text[stream] += chunk;
        const parts = (partial[stream] + chunk).split('\n');
        partial[stream] = parts.pop() ?? '';
        for (const line of parts) lines.push({ ms, stream, text: line });
        sample();
      });
    }
    child.on('error', (error) => {
      clearInterval(poll);
      if (timer) clearTimeout(timer);
      reject(error);
    });
    child.on('close', (status) => {
      const wallMs = performance.now() - start;
      clearInterval(poll);
      if (timer) clearTimeout(timer);
      for (const stream of ['stdout', 'stderr'] as const) if (partial[stream]) lines.push({ ms: wallMs, stream, text: partial[stream] });
      resolve({ status, wallMs, peakRssBytes: peak, lines, stdout: text.stdout, stderr: text.stderr });
    });
  });
}
