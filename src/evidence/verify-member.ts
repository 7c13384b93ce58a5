import { EVENTS_MEMBER, MANIFEST_MEMBER } from "./bundle-format.js";
import type { EvidenceLimits } from "./limits.js";
import { canonicalHeaders, readRawHeader } from "./tar-header.js";
import { VerifyStop } from "./verify-codes.js";

const EXPECTED = [MANIFEST_MEMBER, EVENTS_MEMBER] as const;

/**
 * Check one tar header before reading its body, in this order: checksum (integrity), member
 * count (limits), path safety, member type, duplicates (security), name and order (contract),
 * declared size (limits), byte-exact canonical header (contract). Returns the declared size.
 */
export function checkMemberHeader(
  raw: Buffer,
  index: number,
  seen: Set<string>,
  limits: EvidenceLimits,
): number {
  const h = readRawHeader(raw);
  const where = `member ${index}`;
  if (!h.checksumOk) throw new VerifyStop("tar_invalid", "tar header checksum mismatch", where);
  if (index >= limits.maxMembers)
    throw new VerifyStop("limit_member_count", `more than ${limits.maxMembers} members`, where);
  const unsafe = pathProblem(h.path);
  if (unsafe) throw new VerifyStop("member_unsafe_path", `member \`${printable(h.path)}\`: ${unsafe}`, where);
  if (h.typeflag === "1" || h.typeflag === "2")
    throw new VerifyStop(
      "member_not_regular",
      `member \`${h.path}\` is a ${h.typeflag === "2" ? "symlink" : "hard link"}`,
      where,
    );
  if (h.typeflag !== "0" && h.typeflag !== "\0")
    throw new VerifyStop(
      "member_not_regular",
      `member \`${h.path}\` is not a regular file (type \`${printable(h.typeflag)}\`)`,
      where,
    );
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
  const max = index === 0 ? limits.maxManifestBytes : limits.maxDecompressedBytes;
  if (h.size > max)
    throw new VerifyStop(
      "limit_member_size",
      `member \`${h.path}\` declares ${h.size} bytes, limit ${max}`,
      where,
    );
  if (!canonicalHeaders(h.path, h.size).some((c) => c.equals(raw)))
    throw new VerifyStop(
      "tar_header_noncanonical",
      `member \`${h.path}\` header is not canonical (regular file, mode 0644, uid/gid 0, mtime 0, no owner names)`,
      where,
    );
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

function printable(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: shown escaped in one-line messages
  return s.replace(/[\x00-\x1f\x7f-\xff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}
