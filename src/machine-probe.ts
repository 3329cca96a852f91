import { addon } from './binding.js';
import { fromNativeError, invalidArgument } from './errors.js';
import { ggmlInfo } from './ggml-info.js';
import type { MachineProbe } from './native-types.js';

export type { MachineProbe } from './native-types.js';

export interface ProbeMachineOptions {
  /** Default: the physical core count. */
  threads?: number;
  /** Bytes the read probe streams; default 1 GiB, at least 64 MiB. */
  readBytes?: number;
}

/** Measures this machine's read bandwidth, fp32 FMA and int8 peaks (about a second; run it idle). */
export async function probeMachine(options: ProbeMachineOptions = {}): Promise<MachineProbe> {
  const threads = options.threads ?? ggmlInfo().defaultThreads;
  const readBytes = options.readBytes ?? 2 ** 30;
  if (!Number.isInteger(threads) || threads < 1 || threads > 1024) throw invalidArgument('threads', 'an integer from 1 to 1024', threads);
  if (!Number.isInteger(readBytes) || readBytes < 64 * 2 ** 20 || readBytes > 64 * 2 ** 30) {
    throw invalidArgument('readBytes', 'an integer from 64 MiB to 64 GiB', readBytes);
  }
  try {
    return await addon().probeMachine(threads, readBytes);
  } catch (error) {
    throw fromNativeError(error);
  }
}
