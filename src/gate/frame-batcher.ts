import { LineSplitter } from "./line-splitter.js";

/** What a line splitter hands over: a frame, or why one was refused unread. */
export type Frame =
  | { kind: "line"; text: string; bytes: number }
  | { kind: "oversize"; prefix: string; bytes: number }
  | { kind: "undecodable"; prefix: string };

/** A line splitter that returns the frames each chunk completes, to be handled as one batch. */
export class FrameBatcher {
  private frames: Frame[] = [];
  private readonly splitter: LineSplitter;

  constructor(maxBytes: number) {
    this.splitter = new LineSplitter(maxBytes, {
      line: (text, bytes) => this.frames.push({ kind: "line", text, bytes }),
      oversize: (prefix, bytes) => this.frames.push({ kind: "oversize", prefix, bytes }),
      undecodable: (prefix) => this.frames.push({ kind: "undecodable", prefix }),
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
