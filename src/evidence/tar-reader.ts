import { isZero } from "./tar-header.js";
import { VerifyStop } from "./verify-codes.js";

/** What a `TarReader` reports as it walks an archive. Handlers throw `VerifyStop` to stop. */
export interface TarHandlers {
  /** A non-zero 512-byte header; returns the member's declared size. */
  header(raw: Buffer, index: number): number;
  data(chunk: Buffer): void;
  memberEnd(index: number): void;
}

/**
 * A strict streaming tar reader: fed decompressed chunks, it hands each header and body to the
 * handlers and checks what they never see: padding after a body is zero, the archive ends with
 * zero blocks, and nothing but zeros follows them.
 */
export class TarReader {
  private state: "header" | "body" | "pad" | "end" = "header";
  private readonly headerBuf = Buffer.alloc(512);
  private headerFill = 0;
  private remaining = 0;
  private size = 0;
  private index = 0;
  private zeroBytes = 0;

  constructor(private readonly h: TarHandlers) {}

  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      switch (this.state) {
        case "header": {
          const n = Math.min(512 - this.headerFill, chunk.length - at);
          chunk.copy(this.headerBuf, this.headerFill, at, at + n);
          this.headerFill += n;
          at += n;
          if (this.headerFill === 512) {
            this.headerFill = 0;
            if (isZero(this.headerBuf)) {
              this.state = "end";
              this.zeroBytes = 512;
            } else {
              this.size = this.h.header(this.headerBuf, this.index);
              this.remaining = this.size;
              this.state = "body";
              if (this.remaining === 0) this.endBody();
            }
          }
          break;
        }
        case "body": {
          const n = Math.min(this.remaining, chunk.length - at);
          this.h.data(chunk.subarray(at, at + n));
          this.remaining -= n;
          at += n;
          if (this.remaining === 0) this.endBody();
          break;
        }
        case "pad": {
          const n = Math.min(this.remaining, chunk.length - at);
          if (!isZero(chunk.subarray(at, at + n)))
            throw new VerifyStop("tar_invalid", "non-zero padding after a member", `member ${this.index}`);
          this.remaining -= n;
          at += n;
          if (this.remaining === 0) this.state = "header";
          break;
        }
        case "end": {
          const rest = chunk.subarray(at);
          if (!isZero(rest)) throw new VerifyStop("tar_invalid", "data after the end-of-archive marker");
          this.zeroBytes += rest.length;
          at = chunk.length;
          break;
        }
      }
    }
  }

  /** The number of members seen; throws when the archive stopped early. */
  finish(): number {
    if (this.state === "body" || this.state === "pad" || this.headerFill > 0)
      throw new VerifyStop("tar_truncated", "archive ends inside a member");
    if (this.state === "header")
      throw new VerifyStop("tar_truncated", "archive has no end-of-archive marker");
    if (this.zeroBytes < 1024 || this.zeroBytes % 512 !== 0)
      throw new VerifyStop("tar_truncated", "archive end-of-archive marker is incomplete");
    return this.index;
  }

  private endBody(): void {
    const index = this.index;
    this.index++;
    this.h.memberEnd(index);
    const pad = (512 - (this.size % 512)) % 512;
    this.remaining = pad;
    this.state = pad === 0 ? "header" : "pad";
  }
}
