import { once } from "node:events";
import { createReadStream, createWriteStream, type WriteStream } from "node:fs";
import { AssayError } from "../../lib/errors.js";
import type { RawKernelEvent } from "../contract.js";

/**
 * Raw kernel events on disk while a capture runs, one JSON object a line: a capture can see
 * millions of events, so they are never all held in memory.
 */
export class EventFileWriter {
  private readonly out: WriteStream;
  private failure: Error | null = null;
  count = 0;

  constructor(readonly path: string) {
    this.out = createWriteStream(path, { flags: "w" });
    this.out.on("error", (err) => {
      this.failure ??= err;
    });
  }

  /**
   * Append events. Returns a promise only when the stream wants the caller to wait (its buffer is
   * full); the caller should then stop reading its source until it resolves.
   */
  write(events: readonly RawKernelEvent[]): Promise<void> | undefined {
    // A failed stream never drains: the caller hears of the failure now, not never.
    if (this.failure) return Promise.reject(this.failed());
    if (events.length === 0) return undefined;
    // A write to a closed stream neither fails nor drains: it would be waited for forever.
    if (this.out.writableEnded || this.out.destroyed) {
      this.failure = new Error("the file was already closed");
      return Promise.reject(this.failed());
    }
    let text = "";
    for (const e of events) text += `${JSON.stringify(e)}\n`;
    this.count += events.length;
    if (this.out.write(text)) return undefined;
    return once(this.out, "drain").then(
      () => {},
      () => Promise.reject(this.failed()),
    );
  }

  private failed(): AssayError {
    const code = (this.failure as NodeJS.ErrnoException | null)?.code ?? this.failure?.message;
    return new AssayError("runner_capture_failed", `cannot write the raw kernel events: ${code}`, {
      where: this.path,
    });
  }

  /** Flush and close; rejects if any write failed. */
  async close(): Promise<void> {
    if (!this.out.closed) {
      this.out.end();
      await once(this.out, "close").catch(() => {});
    }
    if (this.failure) throw this.failed();
  }
}

/**
 * The events of a file EventFileWriter wrote, streamed back in order, a chunk's worth at a time:
 * each chunk's complete lines are parsed as one JSON array, and handed on as one batch (one parse
 * and one async step per chunk, not per event: what lets the normalizer read a million events in a
 * second or two, bench:runner). The partial last line waits for the next chunk.
 */
export async function* readEventBatches(path: string): AsyncGenerator<RawKernelEvent[]> {
  let rest = "";
  for await (const chunk of createReadStream(path, { encoding: "utf8", highWaterMark: 256 * 1024 })) {
    const text = rest + (chunk as string);
    const end = text.lastIndexOf("\n");
    if (end < 0) {
      rest = text;
      continue;
    }
    rest = text.slice(end + 1);
    const body = text.slice(0, end);
    if (body !== "") yield JSON.parse(`[${body.replaceAll("\n", ",")}]`) as RawKernelEvent[];
  }
  if (rest !== "") yield [JSON.parse(rest) as RawKernelEvent];
}

/** The events of a file EventFileWriter wrote, one at a time. */
export async function* readEventFile(path: string): AsyncGenerator<RawKernelEvent> {
  for await (const batch of readEventBatches(path)) yield* batch;
}
