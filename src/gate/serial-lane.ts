/**
 * The gate's one ordering queue: runs tasks strictly one after another, synchronously while
 * nothing is pending; a task that returns a promise holds back the tasks queued after it until
 * it settles. Every transport runs each direction of a connection on a lane (the stdio gate, the
 * in-process GatedTransport, the HTTP proxy's SSE relay), so messages keep their order and the
 * common case (every step synchronous) pays for no promise at all.
 */
export class SerialLane {
  private queued = 0;
  private tail: Promise<void> = Promise.resolve();

  /** `report` gets the failures of `run` and `later` tasks; the tasks behind a failed one still run. */
  constructor(private readonly report: (err: unknown) => void) {}

  run(task: () => void | Promise<void>): void {
    this.runWith(task, undefined, undefined);
  }

  /** `run(() => task(a, b))` without a closure per task while nothing is queued (the hot path). */
  runWith<A, B>(task: (a: A, b: B) => void | Promise<void>, a: A, b: B): void {
    if (this.queued === 0) {
      let pending: void | Promise<void>;
      try {
        pending = task(a, b);
      } catch (err) {
        this.report(err);
        return;
      }
      if (pending === undefined) return;
      this.hold(pending, this.report);
      return;
    }
    this.hold(
      this.tail.then(() => task(a, b)),
      this.report,
    );
  }

  /**
   * `runWith` for three arguments, handing back what the task returns: at once when nothing is
   * queued and the task is synchronous, else as a promise. Its failure goes to the caller
   * (thrown or rejected), not to `report`; the tasks behind it still run.
   */
  call<A, B, C, T>(task: (a: A, b: B, c: C) => T | Promise<T>, a: A, b: B, c: C): T | Promise<T> {
    if (this.queued === 0) {
      const out = task(a, b, c);
      if (out instanceof Promise) this.hold(out, ignore);
      return out;
    }
    const out = this.tail.then(() => task(a, b, c));
    this.hold(out, ignore);
    return out;
  }

  /** Run `task` after every task queued so far, and never before `later` returns. */
  later(task: () => void | Promise<void>): void {
    this.hold(this.tail.then(task), this.report);
  }

  /** Resolves once every task queued so far has finished. */
  idle(): Promise<void> {
    return this.queued === 0 ? Promise.resolve() : this.tail;
  }

  private hold(pending: Promise<unknown>, onError: (err: unknown) => void): void {
    this.queued++;
    this.tail = pending.then(ignore, onError).finally(() => {
      this.queued--;
    });
  }
}

function ignore(): void {}
