import { StringDecoder } from "node:string_decoder";

/** One server-sent event as it arrived: its raw text (blank line included) and its fields. */
export interface SseEvent {
  raw: string;
  /** The `data:` lines joined with "\n"; undefined when the event had none. */
  data: string | undefined;
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

  private field(line: string): void {
    if (this.dropping || !line.startsWith("data")) return;
    if (line === "data") this.data.push("");
    else if (line[4] === ":") this.data.push(line[5] === " " ? line.slice(6) : line.slice(5));
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
    this.text = this.text.slice(this.scan);
    this.scan = 0;
    this.data = [];
    // One that arrived whole within a chunk is held to the same limit.
    if (raw.length > this.maxEventChars) this.sink.oversize(Buffer.byteLength(raw));
    else this.sink.event({ raw, data });
  }
}

/**
 * The same event with its `data:` lines replaced by one line carrying `data`; every other line
 * (`event:`, `id:`, `retry:`, comments) is kept in place.
 */
export function replaceEventData(raw: string, data: string): string {
  const lines = raw.split(/\r\n|\r|\n/);
  const out: string[] = [];
  let placed = false;
  for (const line of lines) {
    if (line === "") continue;
    if (line === "data" || line.startsWith("data:")) {
      if (!placed) out.push(`data: ${data}`);
      placed = true;
      continue;
    }
    out.push(line);
  }
  if (!placed) out.push(`data: ${data}`);
  return `${out.join("\n")}\n\n`;
}
