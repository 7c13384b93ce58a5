import { createReadStream } from "node:fs";

/** One line of an NDJSON file, without its newline; `line` is 1-based. */
export interface FileLine {
  text: Buffer;
  line: number;
}

/**
 * The complete lines of a file (a path, or its bytes as they are read), streamed. A last line
 * without its newline is not yielded (as for the gate's decision log: a line cut short by a crash
 * described a call never forwarded); `onPartialTail` hears about it. A line longer than
 * `maxLineBytes` throws `LineTooLong`.
 */
export async function* readLines(
  source: string | AsyncIterable<Buffer>,
  maxLineBytes: number,
  onPartialTail?: (line: number, bytes: number) => void,
): AsyncGenerator<FileLine> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let line = 0;
  const chunks = typeof source === "string" ? (createReadStream(source) as AsyncIterable<Buffer>) : source;
  for await (const chunk of chunks) {
    let from = 0;
    for (;;) {
      const nl = chunk.indexOf(0x0a, from);
      if (nl === -1) break;
      const piece = chunk.subarray(from, nl);
      line++;
      if (pendingBytes + piece.length > maxLineBytes) throw new LineTooLong(line, maxLineBytes);
      yield { text: pending.length === 0 ? piece : Buffer.concat([...pending, piece]), line };
      pending = [];
      pendingBytes = 0;
      from = nl + 1;
    }
    if (from < chunk.length) {
      pending.push(chunk.subarray(from));
      pendingBytes += chunk.length - from;
      if (pendingBytes > maxLineBytes) throw new LineTooLong(line + 1, maxLineBytes);
    }
  }
  if (pendingBytes > 0) onPartialTail?.(line + 1, pendingBytes);
}

export class LineTooLong extends Error {
  constructor(
    readonly line: number,
    readonly limit: number,
  ) {
    super(`line longer than ${limit} bytes`);
  }
}
