import { StringDecoder } from "node:string_decoder";

/** One server-sent event: its fields as a conforming client reads them. */
export interface SseEvent {
  /** The `data:` lines joined with "\n"; undefined when the event had none. */
  data: string | undefined;
  /** Its other fields (`event`, `id`, `retry`) and comments, in order, written out normalized. */
  fields: string[];
}

export interface SseSink {
  event(e: SseEvent): void;
  /** An event over the size limit was dropped whole. */
  oversize(bytes: number): void;
}

const LINE_END = /[\r\n]/g;

/**
 * Cuts a `text/event-stream` body into events (WHATWG HTML §9.2), keeping each event's raw text
 * so an event the gate does not change is forwarded exactly as it came. Events over the size limit
 * are dropped without being held in memory. An event cut short by the end of the stream is
 * dropped too, as a conforming client would do.
 */
export class SseSplitter {
  private readonly decoder = new StringDecoder("utf8");
  /** Text of the current event not dispatched yet (complete lines, then a partial one). */
  private text = "";
  /** Where the partial line starts in `text`. */
  private scan = 0;
  private data: string[] = [];
  private fields: string[] = [];
  /** Over the limit: lines are read (to find the event's end) but not kept. */
  private dropping = false;
  private dropped = 0;
  /** While dropping: the current line already had characters that were thrown away. */
  private midLine = false;
  private atStart = true;

  /** `maxEventChars`: characters of decoded text, so at most that many bytes of UTF-8 and never fewer. */
  constructor(
    private readonly maxEventChars: number,
    private readonly sink: SseSink,
  ) {}

  push(chunk: Buffer): void {
    this.text += this.decoder.write(chunk);
    this.lines(false);
  }

  end(): void {
    this.text += this.decoder.end();
    this.lines(true);
  }

  private lines(final: boolean): void {
    for (;;) {
      LINE_END.lastIndex = this.scan;
      const m = LINE_END.exec(this.text);
      if (!m) break;
      const at = m.index;
      let len = 1;
      if (this.text[at] === "\r") {
        // A CR at the very end may be the first half of a CRLF still on its way.
        if (at + 1 === this.text.length && !final) break;
        if (this.text[at + 1] === "\n") len = 2;
      }
      let line = this.text.slice(this.scan, at);
      this.scan = at + len;
      if (this.atStart) {
        // A BOM opening the stream is not part of its first line (clients strip it too).
        this.atStart = false;
        if (line.startsWith("\uFEFF")) line = line.slice(1);
      }
      if (line === "" && !this.midLine) this.dispatch();
      else this.field(line);
      this.midLine = false;
    }
    if (!this.dropping && this.text.length > this.maxEventChars) {
      this.dropping = true;
      this.data = [];
    }
    if (this.dropping) {
      // Keep nothing of an event being dropped: only whether its last line has begun, and a
      // trailing CR that may pair with an LF in the next chunk.
      const partial = this.text.slice(this.scan);
      const keepCr = !final && partial.endsWith("\r");
      if (partial.length > (keepCr ? 1 : 0)) this.midLine = true;
      this.dropped += Buffer.byteLength(this.text) - (keepCr ? 1 : 0);
      this.text = keepCr ? "\r" : "";
      this.scan = 0;
    }
  }

  /** One line of an event, read as WHATWG HTML §9.2.6 says; a field clients ignore is dropped. */
  private field(line: string): void {
    if (this.dropping) return;
    if (line.startsWith(":")) {
      this.fields.push(line);
      return;
    }
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (name === "data") this.data.push(value);
    else if (name === "event") this.fields.push(`event: ${value}`);
    else if (name === "id" && !value.includes("\0")) this.fields.push(`id: ${value}`);
    else if (name === "retry" && /^[0-9]+$/.test(value)) this.fields.push(`retry: ${value}`);
  }

  private dispatch(): void {
    if (this.dropping) {
      const bytes = this.dropped + Buffer.byteLength(this.text.slice(0, this.scan));
      this.dropping = false;
      this.dropped = 0;
      this.text = this.text.slice(this.scan);
      this.scan = 0;
      this.sink.oversize(bytes);
      return;
    }
    const raw = this.text.slice(0, this.scan);
    const data = this.data.length > 0 ? this.data.join("\n") : undefined;
    const fields = this.fields;
    this.text = this.text.slice(this.scan);
    this.scan = 0;
    this.data = [];
    this.fields = [];
    // One that arrived whole within a chunk is held to the same limit.
    if (raw.length > this.maxEventChars) this.sink.oversize(Buffer.byteLength(raw));
    else this.sink.event({ data, fields });
  }
}

/** An event's text: its fields, then `data` one line per line, then the blank line; undefined when empty. */
export function writeEvent(fields: readonly string[], data: string | undefined): string | undefined {
  const lines = [...fields];
  if (data !== undefined) for (const d of data.split("\n")) lines.push(`data: ${d}`);
  return lines.length === 0 ? undefined : `${lines.join("\n")}\n\n`;
}
