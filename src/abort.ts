// Bridges an AbortSignal to a native abort flag that compute threads poll.
import { addon } from './binding.js';
import type { NativeAbortFlag } from './native-types.js';
import { MoondreamError } from './errors.js';

export interface AbortLink {
  flag: NativeAbortFlag | undefined;
  dispose(): void;
}

export function abortedError(): MoondreamError {
  return new MoondreamError('ERR_ABORTED', 'The operation was aborted');
}

/**
 * A fresh native flag for one call, raised when `signal` fires. Throws ERR_ABORTED if the signal
 * already fired. `inFlight` collects the flags of running calls, so dispose() can stop them.
 */
export function linkAbortSignal(signal: AbortSignal | undefined, inFlight?: Set<NativeAbortFlag>): AbortLink {
  if (signal?.aborted) throw abortedError();
  const flag = new (addon().NativeAbortFlag)();
  const onAbort = () => flag.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  inFlight?.add(flag);
  return {
    flag,
    dispose: () => {
      signal?.removeEventListener('abort', onAbort);
      inFlight?.delete(flag);
    },
  };
}
