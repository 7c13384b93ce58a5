import type { ChildProcess } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { PipeWriter } from "./pipe-writer.js";

/**
 * The gate's answers the client has not read yet (denied calls, refused frames) past which the
 * gate stops reading the client. Well above a pipe's buffer, so a client that writes a burst
 * before it reads does not stall; low enough that one that never reads cannot exhaust memory.
 */
export const MAX_UNREAD_ANSWER_BYTES = 8 * 1024 * 1024;

/**
 * The stdio gate's writes, with back-pressure both ways: a client that stops reading stops the
 * gate reading the server, as a server that stops reading stops the gate reading the client.
 * The gate's own answers pile up only when the client keeps writing without reading (a flood of
 * denied calls): past MAX_UNREAD_ANSWER_BYTES the client is not read either.
 */
export class StdioPipes {
  private readonly clientOut: PipeWriter;
  private readonly serverIn: PipeWriter | undefined;
  /** The client's pipe is full: the server is not read until it drains. */
  private clientFull = false;
  /** The client left MAX_UNREAD_ANSWER_BYTES unread: the client is not read until it drains. */
  private clientBacklogged = false;
  /** The server's pipe is full: the client is not read until it drains. */
  private serverFull = false;
  /** The gate is done: the client is never read again. */
  private stopped = false;

  constructor(
    private readonly input: Readable,
    private readonly output: Writable,
    private readonly child: ChildProcess,
  ) {
    this.clientOut = new PipeWriter(output);
    this.serverIn = child.stdin ? new PipeWriter(child.stdin) : undefined;
  }

  /** Write lines to the client. */
  toClient(lines: string): void {
    if (this.clientOut.write(lines)) return;
    if (!this.clientBacklogged && this.output.writableLength >= MAX_UNREAD_ANSWER_BYTES) {
      this.clientBacklogged = true;
      this.input.pause();
    }
    if (this.clientFull) return;
    this.clientFull = true;
    this.child.stdout?.pause();
    this.output.once("drain", () => {
      this.clientFull = false;
      this.child.stdout?.resume();
      if (!this.clientBacklogged) return;
      this.clientBacklogged = false;
      this.releaseInput();
    });
  }

  /** Write lines to the server. */
  toServer(lines: string): void {
    const stdin = this.child.stdin;
    if (!stdin || !this.serverIn) return;
    if (this.serverIn.write(lines) || this.serverFull) return;
    this.serverFull = true;
    this.input.pause();
    stdin.once("drain", () => {
      this.serverFull = false;
      this.releaseInput();
    });
  }

  /** The gate is done: stop reading the client for good. */
  stop(): void {
    this.stopped = true;
    this.input.pause();
    // pause() ends a read only when it switches the stream out of flowing (process.stdin stops on
    // that 'pause' event). Input paused before (a full server pipe: a write to a server already
    // gone) may have started reading again, and that read would keep the process alive with
    // nothing left to do until the client hung up: it no longer holds the process.
    (this.input as { unref?: () => void }).unref?.();
  }

  private releaseInput(): void {
    if (!this.serverFull && !this.clientBacklogged && !this.stopped) this.input.resume();
  }
}
