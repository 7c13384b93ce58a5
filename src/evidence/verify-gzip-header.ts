import { VerifyStop, type VerifyWarning } from "./verify-codes.js";

const FLAG_NAMES: [number, string][] = [
  [0x01, "text flag"],
  [0x02, "header CRC"],
  [0x04, "extra field"],
  [0x08, "file name"],
  [0x10, "comment"],
];

/**
 * The first ten bytes of a bundle: gzip magic, deflate and no reserved flag bits (integrity).
 * The text flag, optional fields, mtime, XFL and OS are informational: zlib parses (and checks the header
 * CRC of) whatever the flags announce and inflates the same bytes either way, so they change
 * nothing that is verified. Flags or an mtime, which Assay does not write, are
 * returned as a warning.
 */
export function checkGzipHeader(head: Buffer, fileBytes: number): VerifyWarning | undefined {
  if (head.length < 2 || head[0] !== 0x1f || head[1] !== 0x8b) {
    if (fileBytes === 0) throw new VerifyStop("gzip_truncated", "file is empty");
    if (head.length === 1 && head[0] === 0x1f)
      throw new VerifyStop("gzip_truncated", "gzip header is cut short");
    throw new VerifyStop("gzip_invalid", "not a gzip file");
  }
  if (head.length < 10) throw new VerifyStop("gzip_truncated", "gzip header is cut short");
  if (head[2] !== 0x08) throw new VerifyStop("gzip_invalid", "gzip compression method is not deflate");
  const flags = head[3] ?? 0;
  if ((flags & 0xe0) !== 0) throw new VerifyStop("gzip_invalid", "gzip header sets reserved flag bits");
  const cosmetic = FLAG_NAMES.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
  const mtime = head.readUInt32LE(4);
  if (mtime !== 0) cosmetic.push(`mtime ${mtime}`);
  if (cosmetic.length === 0) return undefined;
  return {
    code: "gzip_header_noncanonical",
    message: `gzip header is not Assay's canonical one: ${cosmetic.join(", ")}`,
    where: "gzip header",
  };
}
