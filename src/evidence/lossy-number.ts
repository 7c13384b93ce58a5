/** A number in JSON text that does not read back as written, and where it is. */
export interface LossyNumber {
  /** 0-based offset of the number's first character in the text. */
  offset: number;
  /** The number as written (clipped to 40 characters). */
  token: string;
  /** What it reads back as: the ECMAScript form of the double it parses to (what canonical JSON writes). */
  reads: string;
  /** RFC 6901 JSON pointer to the number (`""` for a top-level number). */
  pointer: string;
}

/**
 * The first number in `text` whose value changes when read as an IEEE 754 double: an integer
 * beyond 2^53 that rounds (`9007199254740993`), more significant digits than a double holds
 * (`0.10000000000000001`), overflow (`1e400`) or underflow (`1e-400`) — anything whose canonical
 * form is a different number. Another spelling of the same value (`1.50`, `1E2`, `-0`) is not lossy.
 */
// INVARIANT: `text` is JSON, or JSON up to a number the strict parser refused.
export function findLossyNumber(text: string): LossyNumber | undefined {
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = stringEnd(text, i);
      continue;
    }
    if (c !== 0x2d && (c < 0x30 || c > 0x39)) {
      i++;
      continue;
    }
    const start = i;
    let exponent = false;
    while (i < n) {
      const d = text.charCodeAt(i);
      if (d === 0x65 || d === 0x45) exponent = true;
      else if (!isNumberChar(d)) break;
      i++;
    }
    // Up to 15 significant digits, no exponent: always the exact shortest form of its double.
    if (!exponent && i - start <= 15) continue;
    const token = text.slice(start, i);
    const reads = lossyReading(token);
    if (reads !== undefined)
      return { offset: start, token: clip(token), reads, pointer: jsonPointerAt(text, start) };
  }
  return undefined;
}

/** What a JSON number token reads back as when that differs from its value, else undefined. */
export function lossyReading(token: string): string | undefined {
  const v = Number(token);
  const printed = String(v);
  if (!Number.isFinite(v)) return printed;
  return decimalKey(token) === decimalKey(printed) ? undefined : printed;
}

/** The RFC 6901 pointer of the value starting at `offset` in JSON text (valid up to `offset`). */
export function jsonPointerAt(text: string, offset: number): string {
  // One frame per open container: its key (objects) or index (arrays).
  const path: (string | number)[] = [];
  const isArray: boolean[] = [];
  let keyNext = false;
  let i = 0;
  while (i < offset) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const end = stringEnd(text, i);
      if (keyNext) {
        path[path.length - 1] = JSON.parse(text.slice(i, end)) as string;
        keyNext = false;
      }
      i = end;
      continue;
    }
    if (c === 0x7b || c === 0x5b) {
      isArray.push(c === 0x5b);
      path.push(0);
      keyNext = c === 0x7b;
    } else if (c === 0x7d || c === 0x5d) {
      isArray.pop();
      path.pop();
      // An empty object leaves `keyNext` set by its `{`: the string after it is a value, not a key.
      keyNext = false;
    } else if (c === 0x2c) {
      if (isArray[isArray.length - 1]) path[path.length - 1] = (path[path.length - 1] as number) + 1;
      else keyNext = true;
    }
    i++;
  }
  return path.map((p) => `/${String(p).replaceAll("~", "~0").replaceAll("/", "~1")}`).join("");
}

/** The offset just past the string that starts at `at` (the opening quote). */
function stringEnd(text: string, at: number): number {
  let from = at + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q < 0) return text.length;
    let slashes = 0;
    while (text.charCodeAt(q - 1 - slashes) === 0x5c) slashes++;
    if (slashes % 2 === 0) return q + 1;
    from = q + 1;
  }
}

function isNumberChar(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2b || c === 0x2d;
}

/**
 * A number's decimal value as `<sign><significant digits>e<exponent>` (value = 0.digits × 10^exp),
 * so two spellings of the same value compare equal; every zero is `0`.
 */
function decimalKey(s: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(s);
  if (!m) return s;
  const int = m[2] ?? "";
  const all = int + (m[3] ?? "");
  let lead = 0;
  while (lead < all.length && all.charCodeAt(lead) === 0x30) lead++;
  if (lead === all.length) return "0";
  let end = all.length;
  while (all.charCodeAt(end - 1) === 0x30) end--;
  const exp = Number(m[4] ?? "0") + int.length - lead;
  return `${m[1]}${all.slice(lead, end)}e${exp}`;
}

function clip(token: string): string {
  return token.length > 40 ? `${token.slice(0, 37)}...` : token;
}
