/** Where each top-level member's value sits in a canonical JSON object text: `[start, end)`. */
export type MemberSpans = Map<string, [number, number]>;

/**
 * A fast check that `text` is already RFC 8785 canonical JSON (no whitespace, keys strictly
 * increasing by UTF-16 code units, minimal string escapes, numbers as ECMAScript prints them)
 * and I-JSON (no lone surrogates, nesting within `maxDepth`). Strictly increasing keys leave no
 * room for duplicates, and a number printed the way ECMAScript prints it parsed exactly.
 *
 * Returns the value spans of the top-level object's members (an empty map for a top-level
 * array or scalar), or undefined when the text is anything else: invalid, not I-JSON or merely
 * not canonical. It never decides that text is bad; callers fall back to the strict parser for
 * the verdict and the position.
 */
export function scanCanonical(text: string, maxDepth: number): MemberSpans | undefined {
  const spans: MemberSpans = new Map();
  const s = new Scanner(text, maxDepth, spans);
  return s.value() && s.i === text.length ? spans : undefined;
}

// A run of characters that need no further look: not `"`, `\\`, a control character or a surrogate.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters end the run
const PLAIN = /[^"\\\u0000-\u001f\ud800-\udfff]*/y;

class Scanner {
  i = 0;
  private depth = 0;

  constructor(
    private readonly s: string,
    private readonly maxDepth: number,
    private readonly spans: MemberSpans,
  ) {}

  value(): boolean {
    const c = this.s.charCodeAt(this.i);
    if (c === 0x7b) return this.object();
    if (c === 0x5b) return this.array();
    if (c === 0x22) return this.string(false) !== undefined;
    if (c === 0x74) return this.literal("true");
    if (c === 0x66) return this.literal("false");
    if (c === 0x6e) return this.literal("null");
    return this.number();
  }

  private object(): boolean {
    if (++this.depth > this.maxDepth) return false;
    const top = this.depth === 1;
    const s = this.s;
    this.i++;
    if (s.charCodeAt(this.i) === 0x7d) {
      this.i++;
      this.depth--;
      return true;
    }
    let prevStart = -1;
    let prevEnd = -1;
    for (;;) {
      if (s.charCodeAt(this.i) !== 0x22) return false;
      const keyStart = this.i;
      const key = this.string(top);
      if (key === undefined) return false;
      // Raw key texts compare like the keys themselves only without escapes; else decode both.
      if (prevStart >= 0 && !this.keyAfter(prevStart, prevEnd, keyStart, this.i)) return false;
      prevStart = keyStart;
      prevEnd = this.i;
      if (s.charCodeAt(this.i) !== 0x3a) return false;
      const start = ++this.i;
      if (!this.value()) return false;
      if (top) this.spans.set(key as string, [start, this.i]);
      const c = s.charCodeAt(this.i++);
      if (c === 0x7d) {
        this.depth--;
        return true;
      }
      if (c !== 0x2c) return false;
    }
  }

  private array(): boolean {
    if (++this.depth > this.maxDepth) return false;
    const s = this.s;
    this.i++;
    if (s.charCodeAt(this.i) === 0x5d) {
      this.i++;
      this.depth--;
      return true;
    }
    for (;;) {
      if (!this.value()) return false;
      const c = s.charCodeAt(this.i++);
      if (c === 0x5d) {
        this.depth--;
        return true;
      }
      if (c !== 0x2c) return false;
    }
  }

  /**
   * Whether key text `[b0, b1)` sorts strictly after `[a0, a1)` by UTF-16 code units. Both are
   * quoted canonical strings; an escape (only ever a control character) is decoded first.
   */
  private keyAfter(a0: number, a1: number, b0: number, b1: number): boolean {
    const s = this.s;
    for (let i = a0 + 1, j = b0 + 1; ; i++, j++) {
      const a = s.charCodeAt(i);
      const b = s.charCodeAt(j);
      if (a === 0x5c || b === 0x5c)
        return (JSON.parse(s.slice(a0, a1)) as string) < (JSON.parse(s.slice(b0, b1)) as string);
      if (i === a1 - 1) return j !== b1 - 1; // a ended: b is longer (after) unless it ended too
      if (j === b1 - 1) return false;
      if (a !== b) return a < b;
    }
  }

  /** The string (decoded when `decode`; else `""`), or undefined when it is not in canonical form. */
  private string(decode: boolean): string | undefined {
    const s = this.s;
    const start = this.i + 1;
    let escaped = false;
    let j = start;
    for (;;) {
      PLAIN.lastIndex = j;
      PLAIN.test(s);
      j = PLAIN.lastIndex;
      if (j >= s.length) return undefined;
      const c = s.charCodeAt(j);
      if (c === 0x22) break;
      if (c < 0x20) return undefined;
      if (c === 0x5c) {
        escaped = true;
        const e = s.charCodeAt(j + 1);
        if (e === 0x22 || e === 0x5c || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
          j += 2;
          continue;
        }
        // \u00XX is canonical only for control characters without a short escape, in lowercase hex.
        if (e !== 0x75 || s.charCodeAt(j + 2) !== 0x30 || s.charCodeAt(j + 3) !== 0x30) return undefined;
        const hi = s.charCodeAt(j + 4);
        const lo = s.charCodeAt(j + 5);
        const loVal = lo >= 0x30 && lo <= 0x39 ? lo - 0x30 : lo >= 0x61 && lo <= 0x66 ? lo - 0x57 : -1;
        if ((hi !== 0x30 && hi !== 0x31) || loVal < 0) return undefined;
        const v = (hi - 0x30) * 16 + loVal;
        if (v === 0x08 || v === 0x09 || v === 0x0a || v === 0x0c || v === 0x0d) return undefined;
        j += 6;
        continue;
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        const n = s.charCodeAt(j + 1);
        if (c > 0xdbff || n < 0xdc00 || n > 0xdfff) return undefined;
        j += 2;
        continue;
      }
      j++;
    }
    this.i = j + 1;
    if (!decode) return "";
    return escaped ? (JSON.parse(s.slice(start - 1, j + 1)) as string) : s.slice(start, j);
  }

  private number(): boolean {
    const s = this.s;
    const start = this.i;
    let j = start;
    for (;;) {
      const c = s.charCodeAt(j);
      // digits, '-', '+', '.', 'e': the exact grammar is checked by the round trip below.
      if ((c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x2b || c === 0x2e || c === 0x65) j++;
      else break;
    }
    if (j === start) return false;
    const token = s.slice(start, j);
    const n = Number(token);
    // Number() accepts more than JSON (e.g. "+1", ".5"); ECMAScript's own output is valid JSON.
    if (!Number.isFinite(n) || String(n) !== token) return false;
    this.i = j;
    return true;
  }

  private literal(word: string): boolean {
    if (!this.s.startsWith(word, this.i)) return false;
    this.i += word.length;
    return true;
  }
}
