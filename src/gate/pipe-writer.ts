import { writeSync } from "node:fs";
import type { Writable } from "node:stream";
import { pollableFd } from "./busy-poll.js";

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
    const fd = s.writableLength > 0 ? undefined : pollableFd(s);
    if (fd === undefined) return s.write(data);
    const buf = typeof data === "string" ? Buffer.from(data, "utf8") : data;
    const written = writeNow(fd, buf);
    if (written === buf.length) return true;
    // A full pipe (or an error, which the stream reports in its own way): the rest goes the usual way.
    return s.write(written > 0 ? buf.subarray(written) : buf);
  }
}

/** Bytes written to a non-blocking pipe without waiting; 0 when it is full or on an error. */
function writeNow(fd: number, buf: Buffer): number {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  let off = 0;
  try {
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
  } catch {
    // EAGAIN (full) or EPIPE (gone): what was written stays written.
  } finally {
    Error.stackTraceLimit = limit;
  }
  return off;
}
