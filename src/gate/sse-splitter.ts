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
 * Cuts a `text/event-stream` body into events (WHATWG HTML §9.2) and reads their fields. Work is
 * linear in the stream: each chunk is scanned once and a line's pieces are joined once, however
 * many chunks it spans. Events over the size limit are dropped without being held in memory. An
 * event cut short by the end of the stream is dropped too, as a conforming client would do (and
 * reported when it was already over the limit).
 */
export class SseSplitter {
  private readonly decoder = new StringDecoder("utf8");
  /** Pieces of the current line (none kept while dropping) and its length in characters. */
  private partial: string[] = [];
  private partialLen = 0;
  /** The last chunk ended with CR: the line ends there, but a LF opening the next chunk is its pair. */
  private heldCr = false;
  private data: string[] = [];
  private fields: string[] = [];
  /** The current event so far, in characters (for the limit) and UTF-8 bytes (for the report). */
  private eventChars = 0;
  private eventBytes = 0;
  /** Over the limit: lines are read (to find the event's end) but not kept. */
  private dropping = false;
  private atStart = true;

  /** `maxEventChars`: characters of decoded text, so at most that many bytes of UTF-8 and never fewer. */
  constructor(
    private readonly maxEventChars: number,
    private readonly sink: SseSink,
  ) {}

  push(chunk: Buffer): void {
    this.feed(this.decoder.write(chunk), false);
  }

  end(): void {
    this.feed(this.decoder.end(), true);
    // An unfinished event is dropped as clients drop it; one already over the limit is reported.
    if (this.dropping) this.sink.oversize(this.eventBytes);
    this.dropping = false;
    this.partial = [];
    this.partialLen = 0;
    this.data = [];
    this.fields = [];
    this.eventChars = 0;
    this.eventBytes = 0;
  }

  private feed(text: string, final: boolean): void {
    let i = 0;
    if (this.heldCr && (text.length > 0 || final)) {
      this.heldCr = false;
      const crlf = text.startsWith("\n");
      this.count(crlf ? "\r\n" : "\r");
      this.endLine();
      if (crlf) i = 1;
    }
    while (i < text.length) {
      LINE_END.lastIndex = i;
      const m = LINE_END.exec(text);
      if (!m) {
        this.piece(text.slice(i));
        return;
      }
      const at = m.index;
      this.piece(text.slice(i, at));
      if (text[at] === "\r" && at + 1 === text.length && !final) {
        // A CR at the very end may be the first half of a CRLF still on its way.
        this.heldCr = true;
        return;
      }
      const len = text[at] === "\r" && text[at + 1] === "\n" ? 2 : 1;
      this.count(text.slice(at, at + len));
      this.endLine();
      i = at + len;
    }
  }

  /** Part of the current line. */
  private piece(s: string): void {
    if (s.length === 0) return;
    this.partialLen += s.length;
    if (!this.dropping) this.partial.push(s);
    this.count(s);
  }

  private count(s: string): void {
    this.eventChars += s.length;
    this.eventBytes += Buffer.byteLength(s);
    if (!this.dropping && this.eventChars > this.maxEventChars) {
      this.dropping = true;
      this.partial = [];
      this.data = [];
      this.fields = [];
    }
  }

  private endLine(): void {
    let line = this.dropping ? "" : this.partial.join("");
    const hadChars = this.partialLen > 0;
    this.partial = [];
    this.partialLen = 0;
    if (this.atStart) {
      // A BOM opening the stream is not part of its first line (clients strip it too).
      this.atStart = false;
      if (line.startsWith("\uFEFF")) line = line.slice(1);
      if (line === "" && !this.dropping) {
        this.dispatch();
        return;
      }
    }
    if (!hadChars) this.dispatch();
    else if (!this.dropping) this.field(line);
  }

  /** One line of an event, read as WHATWG HTML §9.2.6 says; a field clients ignore is dropped. */
  private field(line: string): void {
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
    const bytes = this.eventBytes;
    const dropped = this.dropping;
    const data = this.data.length > 0 ? this.data.join("\n") : undefined;
    const fields = this.fields;
    this.dropping = false;
    this.eventChars = 0;
    this.eventBytes = 0;
    this.data = [];
    this.fields = [];
    if (dropped) this.sink.oversize(bytes);
    else this.sink.event({ data, fields });
  }
}

/** An event's text: its fields, then `data` one line per line, then the blank line; undefined when empty. */
export function writeEvent(fields: readonly string[], data: string | undefined): string | undefined {
  const lines = [...fields];
  if (data !== undefined) for (const d of data.split("\n")) lines.push(`data: ${d}`);
  return lines.length === 0 ? undefined : `${lines.join("\n")}\n\n`;
}
