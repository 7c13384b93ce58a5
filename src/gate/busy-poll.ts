import { readSync } from "node:fs";
import { Socket } from "node:net";
import type { Readable } from "node:stream";

/** One side the poller may read directly. */
export interface PollSource {
  /** A libuv pipe (see pollableFd); its descriptor is looked up on every read, never kept. */
  stream: Readable;
  /**
   * True when no other process can hold this pipe end (one this process created, close-on-exec,
   * like a child's stdout): nobody else can make it blocking, so it is not made non-blocking again
   * before each read.
   */
  ownPipe?: boolean;
  /** Further conditions for reading now (e.g. the gate is not holding input back). */
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
 *
 * A stream is read only while that keeps the order of its bytes: it is open, flowing and holds
 * nothing buffered, so nothing the event loop read is still waiting to be emitted.
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
          if (!open[i] || !orderSafe(s.stream) || !s.ready()) continue;
          const n = readNow(pipeHandle(s.stream), this.buf, s.ownPipe === true);
          if (n > 0) {
            got = true;
            if (!s.deliver(Buffer.from(this.buf.subarray(0, n)))) return;
          } else if (n < 0) {
            // End of stream, an error or a closed pipe: left for the event loop to report.
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

function orderSafe(stream: Readable): boolean {
  return (
    !stream.destroyed &&
    !stream.readableEnded &&
    stream.readableFlowing === true &&
    stream.readableLength === 0
  );
}

/** Node's internal libuv handle of a stream; there is no public way to its descriptor. */
interface PipeHandle {
  fd?: unknown;
  setBlocking?: (blocking: boolean) => number;
  constructor?: { name?: string };
}

function pipeHandle(stream: unknown): PipeHandle | undefined {
  if (!(stream instanceof Socket)) return undefined;
  const handle = (stream as unknown as { _handle?: PipeHandle | null })._handle ?? undefined;
  return handle?.constructor?.name === "Pipe" ? handle : undefined;
}

/**
 * Bytes read; 0 when nothing is waiting; -1 at end of stream, on an error, or when the pipe is
 * gone or cannot be made non-blocking. Unless the pipe is our own, the descriptor is made
 * non-blocking before every read: another process sharing the pipe (a wrapper that started the
 * gate) may have cleared the flag, and a blocking read here would stop the gate.
 */
function readNow(handle: PipeHandle | undefined, buf: Buffer, ownPipe: boolean): number {
  const fd = handle?.fd;
  if (typeof fd !== "number" || fd < 0) return -1;
  if (!ownPipe && handle?.setBlocking?.(false) !== 0) return -1;
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
 * non-blocking (a file or a terminal could block the gate). Undefined for anything else,
 * including a pipe whose handle is closed.
 */
export function pollableFd(stream: unknown): number | undefined {
  const fd = pipeHandle(stream)?.fd;
  return typeof fd === "number" && fd >= 0 ? fd : undefined;
}
