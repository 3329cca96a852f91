// Bridges an AbortSignal to a native abort flag that compute threads poll.
import { addon, type NativeAbortFlag } from './binding.js';
import { MoondreamError } from './errors.js';

export interface AbortLink {
  flag: NativeAbortFlag | undefined;
  dispose(): void;
}

export function abortedError(): MoondreamError {
  return new MoondreamError('ERR_ABORTED', 'The operation was aborted');
}

/** Throws ERR_ABORTED if the signal already fired; otherwise links it to a fresh native flag. */
export function linkAbortSignal(signal: AbortSignal | undefined): AbortLink {
  if (!signal) return { flag: undefined, dispose: () => undefined };
  if (signal.aborted) throw abortedError();
  const flag = new (addon().NativeAbortFlag)();
  const onAbort = () => flag.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  return { flag, dispose: () => signal.removeEventListener('abort', onAbort) };
}
