// Adapts a callback-streaming call into an async iterator of its pieces.

/**
 * Runs `run` with a piece callback and an abort signal, and yields the pieces in order. Leaving
 * the loop early aborts the call; `outer` aborts it too.
 */
export function streamPieces(
  run: (onPiece: (piece: string) => void, signal: AbortSignal) => Promise<unknown>,
  outer?: AbortSignal,
): AsyncIterable<string> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<string> {
      const controller = new AbortController();
      const onOuterAbort = () => controller.abort();
      outer?.addEventListener('abort', onOuterAbort, { once: true });
      if (outer?.aborted) controller.abort();
      const queue: string[] = [];
      let wake: (() => void) | undefined;
      let finished = false;
      let failure: unknown;
      const done = run((piece) => {
        queue.push(piece);
        wake?.();
      }, controller.signal).then(
        () => { finished = true; wake?.(); },
        (error: unknown) => { failure = error; finished = true; wake?.(); },
      );
      return {
        async next(): Promise<IteratorResult<string>> {
          for (;;) {
            if (queue.length > 0) return { value: queue.shift()!, done: false };
            if (finished) {
              outer?.removeEventListener('abort', onOuterAbort);
              if (failure !== undefined) throw failure;
              return { value: undefined, done: true };
            }
            await new Promise<void>((resolve) => { wake = resolve; });
            wake = undefined;
          }
        },
        async return(): Promise<IteratorResult<string>> {
          controller.abort();
          await done;
          outer?.removeEventListener('abort', onOuterAbort);
          return { value: undefined, done: true };
        },
      };
    },
  };
}
