import { readFile } from "node:fs/promises";
import { AssayError, type AssayErrorCode } from "./errors.js";

/**
 * What to do with bytes that are not UTF-8: refuse them with this code (line and column of the
 * first), or `"replace"` them with U+FFFD, for a format whose own parser refuses anything but
 * ASCII where it matters (PEM: a DER file then gets the parser's "not a PEM key", and comment
 * text around a block may be in any encoding).
 */
export type InvalidUtf8 = AssayErrorCode | "replace";

/**
 * Read a UTF-8 file, or fail with `code` and a one-line `cannot read <what>: ENOENT` naming the
 * path; a file that is not UTF-8 is handled as `invalid` says.
 */
export async function readTextFile(
  path: string,
  code: AssayErrorCode,
  what: string,
  invalid: InvalidUtf8 = "input_invalid",
): Promise<string> {
  let content: Buffer | string;
  try {
    content = invalid === "replace" ? await readFile(path, "utf8") : await readFile(path);
  } catch (err) {
    throw new AssayError(code, `cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? err}`, {
      where: path,
      cause: err,
    });
  }
  if (typeof content === "string") return content;
  return strictUtf8Text(content, path, invalid === "replace" ? code : invalid, what);
}

// Kept as written (ignoreBOM), as readFile(path, "utf8") did: a byte-order mark is the reader's to judge.
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * `bytes` as text, refusing what is not UTF-8 rather than reading it with U+FFFD in place of the
 * bad bytes (a pattern or a name would then not be what its author wrote): `code`, one line
 * naming `where:line:col` of the first bad byte. Text too long for a string is refused too.
 */
export function strictUtf8Text(bytes: Uint8Array, where: string, code: AssayErrorCode, what: string): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    // All UTF-8, yet not decoded: longer than a string may be (2^29 characters).
    if (at === -1)
      throw new AssayError(code, `${what} is too large to read as text (${bytes.length} bytes)`, { where });
    throw new AssayError(
      code,
      `${what} is not UTF-8 text (byte 0x${hex(bytes[at] as number)} at offset ${at})`,
      {
        where: `${where}:${lineAndColumn(bytes, at)}`,
      },
    );
  }
}

/**
 * Offset of the first byte that does not start (or continue) a well-formed UTF-8 sequence, as
 * the Unicode standard defines it (no overlong forms, surrogates or code points past U+10FFFF);
 * -1 when all of `bytes` is UTF-8. A sequence cut short by the end counts as bad at its start.
 */
export function firstInvalidUtf8(bytes: Uint8Array): number {
  const n = bytes.length;
  let i = 0;
  while (i < n) {
    const b = bytes[i] as number;
    if (b < 0x80) {
      i++;
      continue;
    }
    const more = b >= 0xc2 && b <= 0xdf ? 1 : b >= 0xe0 && b <= 0xef ? 2 : b >= 0xf0 && b <= 0xf4 ? 3 : 0;
    if (more === 0 || i + more >= n) return i;
    // The second byte's range is narrower after these leads (Unicode Table 3-7).
    const lo = b === 0xe0 ? 0xa0 : b === 0xf0 ? 0x90 : 0x80;
    const hi = b === 0xed ? 0x9f : b === 0xf4 ? 0x8f : 0xbf;
    const second = bytes[i + 1] as number;
    if (second < lo || second > hi) return i;
    for (let k = 2; k <= more; k++) if (((bytes[i + k] as number) & 0xc0) !== 0x80) return i;
    i += more + 1;
  }
  return -1;
}

/**
 * `line:col` (1-based) of byte `at`, which starts a character or is bad; the column counts UTF-16
 * units, as the YAML and JSON parsers' positions do.
 */
function lineAndColumn(bytes: Uint8Array, at: number): string {
  let line = 1;
  let start = 0;
  for (let i = 0; i < at; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      start = i + 1;
    }
  }
  // Everything before `at` is UTF-8, so it decodes.
  const column = UTF8.decode(bytes.subarray(start, at)).length + 1;
  return `${line}:${column}`;
}

const hex = (b: number): string => b.toString(16).toUpperCase().padStart(2, "0");
