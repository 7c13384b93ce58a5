/** How much of an oversize frame is kept to find its id. */
const PEEK_BYTES = 64 * 1024;

export interface LineHandlers {
  /** A frame; `bytes` is its size on the wire. */
  line(text: string, bytes: number): void;
  /** A frame longer than the limit: dropped unparsed; `prefix` is its start, for its id. */
  oversize(prefix: string, bytes: number): void;
  /** A frame that is not valid UTF-8: dropped, since decoding it would change what was sent. */
  undecodable(prefix: string): void;
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * Newline-delimited frames (the MCP stdio transport) from a byte stream, with a size bound:
 * memory stays under the limit whatever the peer sends. Splits on bytes, so a UTF-8 character
 * cut between chunks is reassembled before decoding.
 */
export class LineSplitter {
  private parts: Buffer[] = [];
  private buffered = 0;
  /** Set while skipping the rest of an oversize frame. */
  private skipping: { prefix: string; bytes: number } | undefined;

  constructor(
    private readonly maxBytes: number,
    private readonly on: LineHandlers,
  ) {}

  push(chunk: Buffer): void {
    // The usual chunk (nothing pending, nothing that could be over the limit): its complete lines
    // decoded in one go and split as text, rather than a view, a decode and an array per line.
    if (this.buffered === 0 && this.skipping === undefined && chunk.length <= this.maxBytes) {
      const n = chunk.length;
      // Most chunks end a line (a message per read): decoded whole, with neither a search for
      // the last newline nor a view up to it.
      if (n > 0 && chunk[n - 1] === 0x0a) {
        if (this.wholeLines(chunk)) return;
      } else {
        const last = chunk.lastIndexOf(0x0a);
        if (last >= 0 && this.wholeLines(chunk.subarray(0, last + 1))) {
          this.take(chunk.subarray(last + 1));
          return;
        }
      }
    }
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? chunk.length : nl;
      this.take(chunk.subarray(start, end));
      if (nl < 0) return;
      this.finishFrame();
      start = nl + 1;
    }
  }

  /** The stream ended: a frame without its newline is still a frame. */
  end(): void {
    if (this.buffered > 0 || this.skipping) this.finishFrame();
  }

  /**
   * Hand over the frames of `bytes`, complete lines each ending in a newline, as finishFrame
   * would one by one; false (and nothing handed over) when they are not all valid UTF-8, for the
   * caller to take them line by line so that only the bad frame is refused.
   */
  private wholeLines(bytes: Buffer): boolean {
    let text: string;
    try {
      text = utf8.decode(bytes);
    } catch {
      return false;
    }
    // One UTF-16 unit per byte only when every byte is ASCII: a frame's size is then its length.
    const ascii = text.length === bytes.length;
    let start = 0;
    while (start < text.length) {
      // The text ends with a newline; were it not to, its last piece would still be one frame.
      const nl = text.indexOf("\n", start);
      const end = nl < 0 ? text.length : nl;
      const raw = text.slice(start, end);
      const line = raw.endsWith("\r") ? raw.slice(0, -1) : raw;
      if (line.trim() !== "") this.on.line(line, ascii ? raw.length : Buffer.byteLength(raw, "utf8"));
      start = end + 1;
    }
    return true;
  }

  private take(piece: Buffer): void {
    if (piece.length === 0) return;
    if (this.skipping) {
      this.skipping.bytes += piece.length;
      return;
    }
    if (this.buffered + piece.length > this.maxBytes) {
      const head = Buffer.concat([...this.parts, piece]).subarray(0, PEEK_BYTES);
      this.skipping = { prefix: head.toString("utf8"), bytes: this.buffered + piece.length };
      this.parts = [];
      this.buffered = 0;
      return;
    }
    this.parts.push(piece);
    this.buffered += piece.length;
  }

  private finishFrame(): void {
    if (this.skipping) {
      const { prefix, bytes } = this.skipping;
      this.skipping = undefined;
      this.on.oversize(prefix, bytes);
      return;
    }
    const buf = this.parts.length === 1 ? (this.parts[0] as Buffer) : Buffer.concat(this.parts);
    this.parts = [];
    this.buffered = 0;
    let text: string;
    try {
      text = utf8.decode(buf);
    } catch {
      this.on.undecodable(buf.subarray(0, PEEK_BYTES).toString("utf8"));
      return;
    }
    if (text.endsWith("\r")) text = text.slice(0, -1);
    // Blank lines carry no message; the stdio transport allows none, but dropping them loses nothing.
    if (text.trim() === "") return;
    this.on.line(text, buf.length);
  }
}
