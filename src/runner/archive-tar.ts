import type { Transform } from "node:stream";
import { canonicalGzip } from "../evidence/canonical-gzip.js";
import { readRawHeader } from "../evidence/tar-header.js";
import { TarReader } from "../evidence/tar-reader.js";
import { VerifyStop } from "../evidence/verify-codes.js";
import { AssayError } from "../lib/errors.js";

/**
 * The tar and gzip framing of a runner archive (contract §2), as the earlier implementation's
 * Rust `tar` crate writes it: GNU headers (`Header::new_gnu`), which tar-stream cannot write (it
 * writes ustar only), so they are built here.
 */

/** What ends an archive: two zero blocks (the Rust crate's `finish`, no padding to a 10 KiB record). */
export const TAR_END = Buffer.alloc(1024);

/**
 * A GNU tar header for a regular file: mode 0644, uid and gid 0, mtime 0, owner and group
 * `assay`, numbers as zero-padded octal ending in NUL, device numbers and times left zero.
 */
export function gnuHeader(name: string, size: number): Buffer {
  const buf = Buffer.alloc(512);
  if (Buffer.byteLength(name) > 100 || !/^[\x21-\x7e]+$/.test(name))
    throw new AssayError("internal", `archive entry name \`${name}\` does not fit a tar header`);
  buf.write(name, 0, "ascii");
  octal(buf, 100, 8, 0o644);
  octal(buf, 108, 8, 0);
  octal(buf, 116, 8, 0);
  octal(buf, 124, 12, size);
  octal(buf, 136, 12, 0);
  buf[156] = 0x30; // typeflag '0': a regular file
  buf.write("ustar  \0", 257, "ascii"); // GNU magic "ustar " and version " \0"
  buf.write("assay", 265, "ascii");
  buf.write("assay", 297, "ascii");
  // The checksum is summed with its own field read as spaces.
  buf.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of buf) sum += b;
  buf.fill(0, 148, 156);
  octal(buf, 148, 8, sum);
  return buf;
}

/** The zero bytes that pad an entry of `size` bytes to a whole 512-byte block. */
export function tarPadding(size: number): Buffer {
  return Buffer.alloc(padLength(size));
}

function padLength(size: number): number {
  return (512 - (size % 512)) % 512;
}

/**
 * `width - 1` octal digits and a NUL (the Rust crate's `octal_into`); a value too large for the
 * field is an internal error (8 GiB for a size), never a silently truncated header.
 */
function octal(buf: Buffer, at: number, width: number, value: number): void {
  const digits = value.toString(8);
  if (!Number.isSafeInteger(value) || value < 0 || digits.length > width - 1)
    throw new AssayError("internal", `tar header field \`${value}\` does not fit ${width - 1} octal digits`);
  buf.write(`${digits.padStart(width - 1, "0")}\0`, at, "ascii");
}

/** Gzip at level 9 with the `flate2` header (`GZIP_HEADER_BEST`); the compressed bytes are not part of the contract, the extracted files are. */
export function gzipBest(): Transform {
  return canonicalGzip({ best: true });
}

/** One entry of a tar being read: its path and a regular file's or directory's kind. */
export interface TarEntryHeader {
  path: string;
  kind: "file" | "directory";
  size: number;
}

/** What a `TarParser` reports as it walks an archive. */
export interface TarParserHandlers {
  entry(header: TarEntryHeader): void;
  data(chunk: Buffer): void;
  entryEnd(): void;
}

/**
 * A streaming reader for the tars runner archives come in: ustar and GNU headers (what the Rust
 * crate, GNU tar and Python write for short names), regular files and directories only. Fed
 * decompressed chunks; throws `input_invalid` (where: `archive`) for anything else. The walk
 * itself (bodies, zero padding, the end-of-archive blocks) is the evidence verifier's TarReader;
 * this decodes and filters the headers.
 */
export class TarParser {
  private readonly reader: TarReader;

  constructor(
    private readonly archive: string,
    h: TarParserHandlers,
  ) {
    this.reader = new TarReader({
      header: (raw) => {
        const entry = this.entryOf(raw);
        h.entry(entry);
        return entry.size;
      },
      data: (chunk) => h.data(chunk),
      memberEnd: () => h.entryEnd(),
    });
  }

  push(chunk: Buffer): void {
    this.guard(() => this.reader.push(chunk));
  }

  /** Throws when the archive stopped in the middle of an entry or had no end-of-archive blocks. */
  finish(): void {
    this.guard(() => this.reader.finish());
  }

  private entryOf(buf: Buffer): TarEntryHeader {
    // The evidence verifier's header reader: one decoding of names, sizes and checksums.
    const h = readRawHeader(buf);
    if (!h.checksumOk) throw this.fail("a tar header has a wrong checksum");
    if (h.format !== "ustar" && h.format !== "gnu") throw this.fail("a tar header is neither ustar nor GNU");
    const { path, typeflag: type, size } = h;
    if (Number.isNaN(size)) throw this.fail(`entry \`${path}\` has an unreadable size`);
    if (type === "0" || type === "\0") return { path, kind: "file", size };
    if (type === "5") return { path, kind: "directory", size };
    throw this.fail(`entry \`${path}\` is not a regular file (type \`${type}\`)`);
  }

  /** The reader's own refusals (truncation, non-zero padding, data after the end) as ours. */
  private guard(step: () => unknown): void {
    try {
      step();
    } catch (err) {
      if (err instanceof VerifyStop) throw this.fail(`the archive is not a valid tar: ${err.message}`);
      throw err;
    }
  }

  private fail(message: string): AssayError {
    return new AssayError("input_invalid", message, { where: this.archive });
  }
}
