import { readFile } from "node:fs/promises";
import { AssayError, type AssayErrorCode } from "./errors.js";

/**
 * Read a UTF-8 file, or fail with `code` and a one-line `cannot read <what>: ENOENT` naming the
 * path; a file that is not UTF-8 fails with `invalidCode`, naming the line and column of its
 * first bad byte.
 */
export async function readTextFile(
  path: string,
  code: AssayErrorCode,
  what: string,
  invalidCode: AssayErrorCode = "input_invalid",
): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new AssayError(code, `cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? err}`, {
      where: path,
      cause: err,
    });
  }
  return strictUtf8Text(bytes, path, invalidCode, what);
}

// Kept as written (ignoreBOM), as readFile(path, "utf8") did: a byte-order mark is the reader's to judge.
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/**
 * `bytes` as text, refusing what is not UTF-8 rather than reading it with U+FFFD in place of the
 * bad bytes (a pattern or a name would then not be what its author wrote): `code`, one line
 * naming `where:line:col` of the first bad byte.
 */
export function strictUtf8Text(bytes: Uint8Array, where: string, code: AssayErrorCode, what: string): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    throw new AssayError(code, `${what} is not UTF-8 text (byte ${at})`, {
      where: `${where}:${lineAndColumn(bytes, at)}`,
    });
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

/** `line:col` (1-based; the column in characters) of byte `at`, which starts a character or is bad. */
function lineAndColumn(bytes: Uint8Array, at: number): string {
  let line = 1;
  let start = 0;
  for (let i = 0; i < at; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      start = i + 1;
    }
  }
  // Everything before `at` is UTF-8, so it decodes; a character is a code point.
  const column = [...UTF8.decode(bytes.subarray(start, at))].length + 1;
  return `${line}:${column}`;
}
