import { EVENTS_MEMBER, MANIFEST_MEMBER } from "./bundle-format.js";
import type { EvidenceLimits } from "./limits.js";
import { cosmeticDifferences, printable, readRawHeader, unreadableFields } from "./tar-header.js";
import { VerifyStop, type VerifyWarning } from "./verify-codes.js";

const EXPECTED = [MANIFEST_MEMBER, EVENTS_MEMBER] as const;

/** Typeflags that are headers for the next member rather than members, with what they carry. */
const EXTENSION_HEADERS: Record<string, string> = {
  x: "a PAX extended header",
  g: "a PAX global header",
  L: "a GNU long name",
  K: "a GNU long link name",
  X: "a Solaris extended header",
};

const NOT_REGULAR: Record<string, string> = {
  "1": "a hard link",
  "2": "a symlink",
  "3": "a character device",
  "4": "a block device",
  "5": "a directory",
  "6": "a FIFO",
  "7": "a contiguous file",
  S: "a GNU sparse file",
};

/**
 * Check one tar header before reading its body, in this order: checksum (integrity), member
 * count (limits), a known header layout (integrity), member type and link target, path safety,
 * duplicates (security), name and order (contract), readable numbers and the declared size
 * (integrity, limits). Returns the declared size. A header that passes but is not Assay's own
 * canonical one adds a `tar_header_noncanonical` warning: mode, ids, mtime, owner names, GNU or
 * V7 layout and field encoding change nothing the verifier reads.
 */
export function checkMemberHeader(
  raw: Buffer,
  index: number,
  seen: Set<string>,
  limits: EvidenceLimits,
  warnings: VerifyWarning[],
): number {
  const h = readRawHeader(raw);
  const where = `member ${index}`;
  if (!h.checksumOk) throw new VerifyStop("tar_invalid", "tar header checksum mismatch", where);
  if (index >= limits.maxMembers)
    throw new VerifyStop("limit_member_count", `more than ${limits.maxMembers} members`, where);
  if (h.format === undefined)
    throw new VerifyStop(
      "tar_invalid",
      `unknown tar header magic \`${printable(raw.subarray(257, 265).toString("latin1"))}\``,
      where,
    );
  // Type before path: an extension header's own name is not what a reader extracts.
  const extension = EXTENSION_HEADERS[h.typeflag];
  if (extension)
    throw new VerifyStop(
      "member_not_regular",
      `${extension} (type \`${h.typeflag}\`): extension headers can rename or resize the next member`,
      where,
    );
  if (h.typeflag !== "0" && h.typeflag !== "\0")
    throw new VerifyStop(
      "member_not_regular",
      `member \`${printable(h.path)}\` is ${NOT_REGULAR[h.typeflag] ?? `not a regular file (type \`${printable(h.typeflag)}\`)`}`,
      where,
    );
  if (h.hasLinkTarget)
    throw new VerifyStop("member_not_regular", `member \`${printable(h.path)}\` names a link target`, where);
  const unsafe = h.nameAmbiguity ?? pathProblem(h.path);
  if (unsafe) throw new VerifyStop("member_unsafe_path", `member \`${printable(h.path)}\`: ${unsafe}`, where);
  if (seen.has(h.path)) throw new VerifyStop("member_duplicate", `member \`${h.path}\` appears twice`, where);
  seen.add(h.path);
  const expected = EXPECTED[index];
  if (h.path !== expected) {
    if ((EXPECTED as readonly string[]).includes(h.path))
      throw new VerifyStop(
        "member_order",
        `member \`${h.path}\` is out of order: expected \`${expected}\``,
        where,
      );
    throw new VerifyStop(
      "member_unexpected",
      `unexpected member \`${h.path}\`: expected \`${expected}\``,
      where,
    );
  }
  if (Number.isNaN(h.size))
    throw new VerifyStop("tar_invalid", `member \`${h.path}\` has an unreadable size`, where);
  const unreadable = unreadableFields(h);
  if (unreadable.length > 0)
    throw new VerifyStop(
      "tar_invalid",
      `member \`${h.path}\` has an unreadable ${unreadable.join(", ")} field (tar readers refuse it)`,
      where,
    );
  const max = index === 0 ? limits.maxManifestBytes : limits.maxDecompressedBytes;
  if (h.size > max)
    throw new VerifyStop(
      "limit_member_size",
      `member \`${h.path}\` declares ${h.size} bytes, limit ${max}`,
      where,
    );
  const cosmetic = cosmeticDifferences(raw, h);
  if (cosmetic.length > 0)
    warnings.push({
      code: "tar_header_noncanonical",
      message: `member \`${h.path}\` header is not Assay's canonical one: ${cosmetic.join(", ")}`,
      where,
    });
  return h.size;
}

function pathProblem(path: string): string | undefined {
  if (path.length === 0) return "empty path";
  if (path.startsWith("/")) return "absolute path";
  if (path.includes("\\")) return "backslash in path";
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (/[\x00-\x1f\x7f-\xff]/.test(path)) return "control or non-ASCII character in path";
  if (path.split("/").some((seg) => seg === ".." || seg === "." || seg === "")) return "path traversal";
  return undefined;
}
