import { VerifyStop } from "./verify-codes.js";

/**
 * The first ten bytes of a bundle: gzip magic and deflate (integrity), then no optional fields
 * and mtime 0 (contract). XFL and OS are informational in gzip and vary by writer; zlib ignores
 * them, so they cannot change what is verified.
 */
export function checkGzipHeader(head: Buffer, fileBytes: number): void {
  if (head.length < 2 || head[0] !== 0x1f || head[1] !== 0x8b) {
    if (fileBytes === 0) throw new VerifyStop("gzip_truncated", "file is empty");
    if (head.length === 1 && head[0] === 0x1f)
      throw new VerifyStop("gzip_truncated", "gzip header is cut short");
    throw new VerifyStop("gzip_invalid", "not a gzip file");
  }
  if (head.length < 10) throw new VerifyStop("gzip_truncated", "gzip header is cut short");
  if (head[2] !== 0x08) throw new VerifyStop("gzip_invalid", "gzip compression method is not deflate");
  if (head[3] !== 0)
    throw new VerifyStop("gzip_header_noncanonical", "gzip header has optional fields (FLG is not 0)");
  if (head.readUInt32LE(4) !== 0) throw new VerifyStop("gzip_header_noncanonical", "gzip mtime is not 0");
}
