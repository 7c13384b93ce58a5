/**
 * How the runner's artifacts are written (contract §1): compact JSON with keys in the order the
 * object was built (the contract's order, see contract.ts), NDJSON lines ending in "\n", and sets
 * sorted by UTF-8 bytes. JSON.stringify escapes exactly what serde_json escapes (`"`, `\`,
 * control characters, lowercase `\u00xx`) and writes non-ASCII and `/` literally.
 */

/** A JSON artifact's text: compact, no trailing newline. */
export function artifactJson(value: object): string {
  return JSON.stringify(value);
}

/** One NDJSON line: the compact JSON of `value` and a "\n". */
export function ndjsonLine(value: object): string {
  return `${JSON.stringify(value)}\n`;
}

/** JSON indented by 2 with a final newline: the capability diff's file format (the reference script's). */
export function prettyJson(value: object): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * Compare two strings by their UTF-8 bytes (what `Buffer.compare(Buffer.from(a), Buffer.from(b))`
 * says, without encoding either): code point order, where JavaScript's `<` compares UTF-16 code
 * units and puts U+FF5E before U+1F600. A lone surrogate counts as U+FFFD, as UTF-8 encodes it.
 */
export function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  if (i === a.length && i === b.length) return 0;
  // The shared prefix may end inside a surrogate pair: decode from the start of that pair.
  if (i > 0 && isHigh(a.charCodeAt(i - 1))) i--;
  let ia = i;
  let ib = i;
  while (ia < a.length && ib < b.length) {
    const ca = codePointAt(a, ia);
    const cb = codePointAt(b, ib);
    if (ca !== cb) return ca < cb ? -1 : 1;
    ia += ca > 0xffff ? 2 : 1;
    ib += cb > 0xffff ? 2 : 1;
  }
  if (ia < a.length) return 1;
  return ib < b.length ? -1 : 0;
}

/**
 * A set of strings as the contract writes one (Rust's `BTreeSet<String>`): duplicates removed,
 * sorted ascending by UTF-8 bytes. Two different strings with the same UTF-8 bytes (only strings
 * with lone surrogates have them) both stay, in UTF-16 order, so the result never depends on input order.
 */
export function byteSort(strings: Iterable<string>): string[] {
  return [...new Set(strings)].sort((a, b) => compareUtf8(a, b) || (a < b ? -1 : a > b ? 1 : 0));
}

function isHigh(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

/** The code point at `i`, with a lone surrogate read as U+FFFD (the replacement UTF-8 writes for it). */
function codePointAt(s: string, i: number): number {
  const c = s.codePointAt(i) as number;
  return c >= 0xd800 && c <= 0xdfff ? 0xfffd : c;
}
