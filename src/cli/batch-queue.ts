import type { ParsedArgs } from './args.js';
import { UsageError } from './args.js';

export async function runProducer(_args: ParsedArgs, _queue: string, _out: string): Promise<number> {
  throw new UsageError('--queue is not implemented yet');
}

export async function showStatus(_queue: string, _job: string, _json: boolean): Promise<number> {
  throw new UsageError('--queue is not implemented yet');
}
