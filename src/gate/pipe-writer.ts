import { writeSync } from "node:fs";
import { Socket } from "node:net";
import type { Writable } from "node:stream";

/**
 * Writes to a pipe straight through its descriptor when nothing is queued in the stream, and
 * through the stream otherwise (or for the part a full pipe would not take). The stream's write
 * path costs a few µs per message the gate adds to every call (bench:gate); going around it
 * only when its queue is empty keeps the order of everything written.
 */
export class PipeWriter {
  constructor(private readonly stream: Writable) {}

  /** Write `data` (text as UTF-8); false when the stream asks to wait for `drain`, as Writable.write does. */
  write(data: string | Buffer): boolean {
    const s = this.stream;
    if (s.destroyed || !s.writable) return true;
    // Looked up on every write: a descriptor kept past its pipe's close could be reused by then.
    const fd = s.writableLength > 0 ? undefined : pipeFd(s);
    if (fd === undefined) return s.write(data);
    // Text goes to the descriptor as it is (no Buffer of our own), bytes once a write comes up short.
    const first = writeNow(fd, data);
    if (first.done) return true;
    const buf = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    const written = first.written + (first.failed ? 0 : writeNow(fd, buf.subarray(first.written)).written);
    if (written === buf.length) return true;
    // A full pipe (or an error, which the stream reports in its own way): the rest goes the usual way.
    return s.write(written > 0 ? buf.subarray(written) : buf);
  }
}

/** Node's internal libuv handle of a stream; there is no public way to its descriptor. */
interface PipeHandle {
  fd?: unknown;
  constructor?: { name?: string };
}

/**
 * The descriptor of a libuv pipe, which libuv has made non-blocking (a file or a terminal could
 * block the gate). Undefined for anything else, including a pipe whose handle is closed.
 */
export function pipeFd(stream: unknown): number | undefined {
  if (!(stream instanceof Socket)) return undefined;
  const handle = (stream as unknown as { _handle?: PipeHandle | null })._handle ?? undefined;
  if (handle?.constructor?.name !== "Pipe") return undefined;
  const fd = handle.fd;
  return typeof fd === "number" && fd >= 0 ? fd : undefined;
}

/**
 * Write to a non-blocking pipe without waiting: a Buffer until it is all written, text in one
 * write. `written` bytes went out; `done` when that is all of it; `failed` when the pipe is full
 * (EAGAIN) or gone (EPIPE), which stops the writing.
 */
function writeNow(fd: number, data: string | Buffer): { written: number; done: boolean; failed: boolean } {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let written = 0;
  try {
    if (typeof data === "string") {
      written = writeSync(fd, data);
      return { written, done: written === Buffer.byteLength(data, "utf8"), failed: false };
    }
    while (written < data.length) written += writeSync(fd, data, written, data.length - written);
    return { written, done: true, failed: false };
  } catch {
    // EAGAIN (full) or EPIPE (gone): what was written stays written.
    return { written, done: false, failed: true };
  } finally {
    Error.stackTraceLimit = limit;
  }
}
