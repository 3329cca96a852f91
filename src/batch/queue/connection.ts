// Redis connections for BullMQ from a redis:// URL, with a quick reachability check first: ioredis
// otherwise retries forever, and a typo in --queue would look like a hang.
import { Redis } from 'ioredis';
import { MoondreamError } from '../../errors.js';

export interface QueueConnection {
  url: string;
  /** Workers must block on Redis without a retry limit (BullMQ's rule for their connection). */
  maxRetriesPerRequest: null;
}

export function checkQueueUrl(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new MoondreamError('ERR_INVALID_ARGUMENT', `Expected a redis:// or rediss:// URL for --queue but received ${JSON.stringify(url)}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new MoondreamError('ERR_INVALID_ARGUMENT', `Expected a redis:// or rediss:// URL for --queue but received ${JSON.stringify(url)}`);
  }
  return url;
}

/** Where a URL's password would show, a placeholder. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url;
  }
}

/** Connects once (5 s at most) and returns BullMQ connection options for the URL. */
export async function connectQueue(url: string): Promise<QueueConnection> {
  checkQueueUrl(url);
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 5000 });
  probe.on('error', () => undefined);  // reported by connect() below
  try {
    await probe.connect();
    await probe.ping();
  } catch (error) {
    throw new MoondreamError('ERR_IO', `Cannot reach Redis at ${redactUrl(url)}: ${(error as Error).message}`, { cause: error });
  } finally {
    probe.disconnect();
  }
  return { url, maxRetriesPerRequest: null };
}

/** A plain client for the batch's own keys (its progress counters). */
export function redisClient(connection: QueueConnection): Redis {
  return new Redis(connection.url, { maxRetriesPerRequest: null });
}
