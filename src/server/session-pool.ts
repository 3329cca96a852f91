// A fixed set of sessions and a bounded FIFO of requests waiting for one. A request names the
// image it is about, and gets an idle session that answered that image recently if there is
// one, because that session holds the image's prompt prefix in its KV cache.
import type { ServingSession } from './serving-session.js';

export class QueueFullError extends Error {
  constructor(readonly maxQueue: number) {
    super(`All sessions are busy and the queue is full (${maxQueue} waiting); retry later`);
    this.name = 'QueueFullError';
  }
}

export class PoolClosedError extends Error {
  constructor() {
    super('The server is shutting down');
    this.name = 'PoolClosedError';
  }
}

export interface Lease {
  readonly session: ServingSession;
  /** The session had answered this image before (its prefix is probably still cached). */
  readonly affine: boolean;
  /** Returns the session; `imageKey` is remembered as one it now holds. Safe to call twice. */
  release(imageKey?: string): void;
}

interface Slot {
  session: ServingSession;
  busy: boolean;
  /** Image keys answered here, most recent last. */
  recent: string[];
  lastUsed: number;
}

interface Waiter {
  key: string | undefined;
  resolve: (lease: Lease) => void;
  reject: (error: unknown) => void;
  cleanup: () => void;
}

/** How many recent images a slot remembers for affinity (its native LRU may hold fewer). */
const RECENT_IMAGES = 16;

export class SessionPool {
  private readonly slots: Slot[];
  private readonly waiters: Waiter[] = [];
  private closed = false;
  private tick = 0;

  constructor(factory: () => ServingSession, size: number, private readonly maxQueue: number, private readonly onChange: () => void = () => undefined) {
    this.slots = Array.from({ length: size }, () => ({ session: factory(), busy: false, recent: [], lastUsed: 0 }));
  }

  get size(): number {
    return this.slots.length;
  }

  get busy(): number {
    return this.slots.filter((slot) => slot.busy).length;
  }

  get queued(): number {
    return this.waiters.length;
  }

  /** An idle session now, or after waiting in the queue; rejects with QueueFullError or the signal's abort. */
  acquire(key: string | undefined, signal?: AbortSignal): Promise<Lease> {
    if (this.closed) return Promise.reject(new PoolClosedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    const slot = this.pickIdle(key);
    if (slot) return Promise.resolve(this.lease(slot, key));
    if (this.waiters.length >= this.maxQueue) return Promise.reject(new QueueFullError(this.maxQueue));
    return new Promise<Lease>((resolve, reject) => {
      const onAbort = () => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        this.onChange();
        reject(signal?.reason);
      };
      const waiter: Waiter = { key, resolve, reject, cleanup: () => signal?.removeEventListener('abort', onAbort) };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
      this.onChange();
    });
  }

  /** Rejects every waiting request and refuses new ones; running leases finish normally. */
  close(): void {
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) {
      waiter.cleanup();
      waiter.reject(new PoolClosedError());
    }
    this.onChange();
  }

  dispose(): void {
    this.close();
    for (const slot of this.slots) slot.session.dispose();
  }

  private pickIdle(key: string | undefined): Slot | undefined {
    let best: Slot | undefined;
    for (const slot of this.slots) {
      if (slot.busy) continue;
      if (key !== undefined && slot.recent.includes(key)) return slot;
      if (!best || slot.lastUsed < best.lastUsed) best = slot;
    }
    return best;
  }

  private lease(slot: Slot, key: string | undefined): Lease {
    slot.busy = true;
    slot.lastUsed = ++this.tick;
    this.onChange();
    let released = false;
    return {
      session: slot.session,
      affine: key !== undefined && slot.recent.includes(key),
      release: (imageKey?: string) => {
        if (released) return;
        released = true;
        if (imageKey !== undefined) {
          slot.recent = [...slot.recent.filter((k) => k !== imageKey), imageKey].slice(-RECENT_IMAGES);
        }
        slot.busy = false;
        const next = this.waiters.shift();
        if (next) {
          next.cleanup();
          next.resolve(this.lease(slot, next.key));
        } else {
          this.onChange();
        }
      },
    };
  }
}
