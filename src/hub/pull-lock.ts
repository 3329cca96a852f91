// One pull per model folder at a time, across processes: workers or server replicas started
// together on one machine share the cache, and two downloads into the same partial file would
// corrupt it. The lock is a folder next to the model folder (proper-lockfile: mkdir is atomic, and
// the holder refreshes its mtime, so the lock of a process that died goes stale and is taken over).
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import lockfile from 'proper-lockfile';
import { abortedError } from '../abort.js';
import { MoondreamError } from '../errors.js';

/** A holder that has not refreshed its lock for this long is taken to be dead. */
const STALE_MS = 30_000;
const REFRESH_MS = 5_000;
const POLL_MS = 250;

export interface PullLockOptions {
  signal?: AbortSignal | undefined;
  /** Called while another process holds the lock, with the time waited so far. */
  onWait?: (waitedMs: number) => void;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortedError());
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Waits for and takes the pull lock of `modelDir`; resolves to its release function. */
export async function acquirePullLock(modelDir: string, options: PullLockOptions = {}): Promise<() => Promise<void>> {
  await mkdir(dirname(modelDir), { recursive: true });
  const started = Date.now();
  let compromised = false;
  for (;;) {
    try {
      const release = await lockfile.lock(modelDir, {
        realpath: false,
        lockfilePath: `${modelDir}.lock`,
        stale: STALE_MS,
        update: REFRESH_MS,
        // Only when this process stalled for longer than STALE_MS and another took over: the other
        // one finishes the pull; this one's files are published by rename and come out the same.
        onCompromised: () => { compromised = true; },
      });
      return async () => {
        if (!compromised) await release().catch(() => undefined);
      };
    } catch (error) {
      if ((error as { code?: string }).code !== 'ELOCKED') {
        throw new MoondreamError('ERR_IO', `Cannot lock '${modelDir}' for the pull: ${(error as Error).message}`, { cause: error });
      }
    }
    options.onWait?.(Date.now() - started);
    await sleep(POLL_MS, options.signal);
  }
}
