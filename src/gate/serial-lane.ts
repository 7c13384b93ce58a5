/**
 * Runs tasks strictly one after another, synchronously while nothing is pending: a task that
 * returns a promise holds back the tasks queued after it until it settles. The stdio gate runs
 * each direction on one lane, so messages keep their order and the common case (every step
 * synchronous) pays for no promise at all.
 */
export class SerialLane {
  private queued = 0;
  private tail: Promise<void> = Promise.resolve();

  constructor(private readonly report: (err: unknown) => void) {}

  run(task: () => void | Promise<void>): void {
    if (this.queued === 0) {
      let pending: void | Promise<void>;
      try {
        pending = task();
      } catch (err) {
        this.report(err);
        return;
      }
      if (pending === undefined) return;
      this.hold(pending);
      return;
    }
    this.hold(this.tail.then(task));
  }

  /** Resolves once every task queued so far has finished. */
  idle(): Promise<void> {
    return this.queued === 0 ? Promise.resolve() : this.tail;
  }

  private hold(pending: Promise<void>): void {
    this.queued++;
    this.tail = pending.catch(this.report).finally(() => {
      this.queued--;
    });
  }
}
