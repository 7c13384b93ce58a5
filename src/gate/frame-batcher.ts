import { LineSplitter } from "./line-splitter.js";

/**
 * A client frame as a transport hands it to the gate (frame-step.ts): a line (or an HTTP body)
 * of text, or why one was refused unread; `prefix` is its start, to find its id.
 */
export type Frame =
  | { kind: "line"; text: string; bytes: number }
  | { kind: "oversize"; prefix: string; bytes: number }
  | { kind: "undecodable"; prefix: string; bytes: number };

/** A line splitter that returns the frames each chunk completes, to be handled as one batch. */
export class FrameBatcher {
  private frames: Frame[] = [];
  private readonly splitter: LineSplitter;

  constructor(maxBytes: number) {
    this.splitter = new LineSplitter(maxBytes, {
      line: (text, bytes) => this.frames.push({ kind: "line", text, bytes }),
      oversize: (prefix, bytes) => this.frames.push({ kind: "oversize", prefix, bytes }),
      // The size recorded for a frame that is not UTF-8 is that of the text its id was looked for in.
      undecodable: (prefix) => this.frames.push({ kind: "undecodable", prefix, bytes: prefix.length }),
    });
  }

  push(chunk: Buffer): Frame[] {
    this.splitter.push(chunk);
    return this.take();
  }

  end(): Frame[] {
    this.splitter.end();
    return this.take();
  }

  private take(): Frame[] {
    const frames = this.frames;
    this.frames = [];
    return frames;
  }
}
