// Runs async work one call at a time, in call order; a failure does not block later calls. Each
// session has one (its native state takes one call at a time), and so has the model's image
// encoder, so waiting calls wait here instead of holding a libuv worker thread.
export class SerialQueue {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work);
    this.tail = run.catch(() => undefined);
    return run;
  }
}
