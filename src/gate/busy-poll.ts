import { readSync } from "node:fs";
import { Socket } from "node:net";

/** One side the poller may read directly. */
export interface PollSource {
  fd: number;
  /** Whether reading the fd now keeps the order: the stream is flowing and holds nothing buffered. */
  ready(): boolean;
  /** Hand over what was read; false stops this spin (e.g. the chunk shows the pipe is busy anyway). */
  deliver(chunk: Buffer): boolean;
}

/**
 * Bounded busy polling (as Linux's SO_BUSY_POLL does for sockets): after the gate handles a
 * chunk, it keeps reading both pipes without blocking for up to `windowUs`, so an answer that
 * comes back quickly is taken at once instead of after the process is woken from epoll. On a
 * virtual machine that wake-up is most of what a proxy hop costs (bench:gate). The price is CPU
 * spent spinning: at most `windowUs` after each chunk, and never more than `sliceUs` at a stretch
 * before the event loop runs again (signals, timers, the server's exit).
 */
export class BusyPoller {
  private active = false;
  private readonly buf = Buffer.allocUnsafe(64 * 1024);
  private readonly windowNs: bigint;
  private readonly sliceNs: bigint;

  constructor(
    private readonly sources: readonly PollSource[],
    windowUs: number,
    sliceUs = 2000,
  ) {
    this.windowNs = BigInt(Math.round(windowUs * 1000));
    this.sliceNs = BigInt(Math.round(sliceUs * 1000));
  }

  /** Poll until nothing has arrived for the window; a no-op when already polling (no recursion). */
  spin(): void {
    if (this.active || this.windowNs === 0n || this.sources.length === 0) return;
    this.active = true;
    const open = this.sources.map(() => true);
    try {
      const start = process.hrtime.bigint();
      const stop = start + this.sliceNs;
      let deadline = start + this.windowNs;
      for (;;) {
        let got = false;
        for (let i = 0; i < this.sources.length; i++) {
          const s = this.sources[i] as PollSource;
          if (!open[i] || !s.ready()) continue;
          const n = readNow(s.fd, this.buf);
          if (n > 0) {
            got = true;
            if (!s.deliver(Buffer.from(this.buf.subarray(0, n)))) return;
          } else if (n < 0) {
            // End of stream or an error: left for the event loop to report.
            open[i] = false;
          }
        }
        if (!open.includes(true)) return;
        const now = process.hrtime.bigint();
        if (got) deadline = now + this.windowNs;
        if (now >= deadline || now >= stop) return;
      }
    } finally {
      this.active = false;
    }
  }
}

/** Bytes read; 0 when nothing is waiting; -1 at end of stream or on an error. */
function readNow(fd: number, buf: Buffer): number {
  // EAGAIN is the common answer: without a stack trace it costs a third as much.
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    const n = readSync(fd, buf, 0, buf.length, null);
    return n === 0 ? -1 : n;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EAGAIN" ? 0 : -1;
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * The descriptor of a stream that can be polled: a libuv pipe, which libuv has made
 * non-blocking (a file or a terminal could block the gate). Undefined for anything else.
 */
export function pollableFd(stream: unknown): number | undefined {
  if (!(stream instanceof Socket)) return undefined;
  // `_handle` is Node's internal libuv handle; there is no public way to the descriptor.
  const handle = (stream as unknown as { _handle?: { fd?: unknown; constructor?: { name?: string } } })
    ._handle;
  if (handle?.constructor?.name !== "Pipe") return undefined;
  return typeof handle.fd === "number" && handle.fd >= 0 ? handle.fd : undefined;
}
