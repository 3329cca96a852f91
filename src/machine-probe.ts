import { addon } from './binding.js';
import { fromNativeError, invalidArgument } from './errors.js';
import { ggmlInfo } from './ggml-info.js';

/** What `threads` threads of this machine reach: the bounds the benchmark divides each stage by. */
export interface MachineProbe {
  threads: number;
  /** Streaming read bandwidth over a buffer far larger than the caches, bytes/s. Bounds decode. */
  readBytesPerSecond: number;
  /** Fused multiply-add peak, 2 FLOPs per FMA, with the widest vectors this CPU has. Bounds f16/f32 matmuls. */
  fp32FlopsPerSecond: number;
  fp32Isa: string;
  /** u8 x s8 multiply-add peak into i32 (2 ops each), as quantized matmuls run; 0 without a SIMD path. */
  int8OpsPerSecond: number;
  int8Isa: string;
}

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
