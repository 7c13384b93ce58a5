/**
 * A backtracking engine (V8's RegExp) is ~30× faster than re2js on the short arguments a gate
 * sees, but only safe where it cannot backtrack its way into super-linear time. This module
 * proves that for a restricted pattern language and translates such patterns, RE2 semantics
 * kept exactly, into a native RegExp. Anything it cannot prove stays on RE2.
 *
 * The proof, for a pattern that is a sequence of items (a char set with a quantifier, or a group
 * of literal alternatives with distinct first chars):
 * - a greedy item that gives a char back leaves the rest of the pattern to start on a char of
 *   the item's own set; if that set is disjoint from every char the rest can start with, the
 *   retry fails at once. Each item's choice points are then popped once: O(n · items).
 * - a group's alternatives start with distinct chars, so at most one of them can match: no
 *   choice there.
 * - anchored at the start (`^`), V8 tries one start position; otherwise it tries every one, so
 *   the whole match must be short (at most MAX_UNANCHORED_LENGTH chars) to stay linear.
 */

const MAX_CODE_POINT = 0x10ffff;
const MAX_UNANCHORED_LENGTH = 64;

/** Sorted, disjoint, non-adjacent inclusive code point ranges: [lo0, hi0, lo1, hi1, ...]. */
type Ranges = readonly number[];

interface Item {
  /** Chars the item can start with (for a char set: every char it consumes). */
  first: Ranges;
  min: number;
  max: number;
  /** Whether the item itself offers the engine a choice (a variable count or an optional group). */
  choice: boolean;
  /** The item as native pattern text (`u` flag). */
  native: string;
}

// RE2's Perl classes are ASCII; `\s` is [\t\n\f\r ] (no \v, no Unicode spaces), unlike JS's.
const DIGIT: Ranges = [0x30, 0x39];
const WORD: Ranges = [0x30, 0x39, 0x41, 0x5a, 0x5f, 0x5f, 0x61, 0x7a];
const SPACE: Ranges = [0x09, 0x0a, 0x0c, 0x0d, 0x20, 0x20];
const NEWLINE: Ranges = [0x0a, 0x0a];
/** RE2 escapes of control characters that are read here (others are left unread). */
export const CONTROL_ESCAPES: Record<string, number> = { t: 0x09, n: 0x0a, r: 0x0d, f: 0x0c };
/** ASCII punctuation: escaped, each stands for itself in RE2. */
export const ASCII_PUNCTUATION = /^[!-/:-@[-`{-~]$/;

/**
 * The native RegExp for `pattern` (already accepted by RE2) when it provably runs in linear
 * time and matches exactly what RE2 matches; undefined otherwise.
 */
export function linearNativeRegex(pattern: string): RegExp | undefined {
  const parsed = new PatternParser(pattern).parse();
  if (!parsed || !isLinear(parsed)) return undefined;
  const body = parsed.items.map((item) => item.native).join("");
  return new RegExp(`${parsed.anchoredStart ? "^" : ""}${body}${parsed.anchoredEnd ? "$" : ""}`, "u");
}

interface ParsedPattern {
  anchoredStart: boolean;
  anchoredEnd: boolean;
  items: Item[];
}

function isLinear({ anchoredStart, items }: ParsedPattern): boolean {
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as Item;
    if (item.choice && overlaps(item.first, firstOfRest(items, i + 1))) return false;
  }
  if (anchoredStart) return true;
  let length = 0;
  for (const item of items) length += item.max;
  return length <= MAX_UNANCHORED_LENGTH;
}

/** Every char the items from `from` on can start with: up to and including the first that must consume. */
function firstOfRest(items: readonly Item[], from: number): Ranges {
  let out: Ranges = [];
  for (let j = from; j < items.length; j++) {
    const item = items[j] as Item;
    out = union(out, item.first);
    if (item.min > 0) break;
  }
  return out;
}

class PatternParser {
  private readonly cps: number[];
  private i = 0;

  constructor(pattern: string) {
    this.cps = Array.from(pattern, (ch) => ch.codePointAt(0) as number);
  }

  parse(): ParsedPattern | undefined {
    const n = this.cps.length;
    const out: ParsedPattern = { anchoredStart: false, anchoredEnd: false, items: [] };
    if (this.peek() === "^") {
      out.anchoredStart = true;
      this.i++;
    }
    while (this.i < n) {
      const c = this.peek();
      if (c === "$" && this.i === n - 1) {
        out.anchoredEnd = true;
        this.i++;
        break;
      }
      const item = this.item();
      if (!item) return undefined;
      out.items.push(item);
    }
    return out;
  }

  private peek(offset = 0): string | undefined {
    const cp = this.cps[this.i + offset];
    return cp === undefined ? undefined : String.fromCodePoint(cp);
  }

  private item(): Item | undefined {
    const c = this.peek();
    if (c === "(") return this.group();
    let set: Ranges | undefined;
    if (c === ".") {
      this.i++;
      set = complement(NEWLINE);
    } else if (c === "[") set = this.charClass();
    else if (c === "\\") set = this.escape(false);
    else if (c === undefined || "^$|)*+?{}]".includes(c)) return undefined;
    else {
      const cp = this.cps[this.i++] as number;
      set = [cp, cp];
    }
    if (!set) return undefined;
    const q = this.quantifier();
    if (!q) return undefined;
    return {
      first: set,
      min: q.min,
      max: q.max,
      choice: q.min !== q.max,
      native: `${classText(set)}${q.text}`,
    };
  }

  /** `(…|…)` or `(?:…|…)` of literal alternatives with distinct first chars; optionally `?`. */
  private group(): Item | undefined {
    this.i++;
    if (this.peek() === "?") {
      if (this.peek(1) !== ":") return undefined;
      this.i += 2;
    }
    const alternatives: number[][] = [[]];
    for (;;) {
      const c = this.peek();
      if (c === undefined) return undefined;
      const current = alternatives[alternatives.length - 1] as number[];
      if (c === "\\") {
        const set = this.escape(true);
        if (!set) return undefined;
        current.push(set[0] as number);
        continue;
      }
      this.i++;
      if (c === ")") break;
      if (c === "|") {
        alternatives.push([]);
        continue;
      }
      if ("^$.[](){}*+?".includes(c)) return undefined;
      current.push(this.cps[this.i - 1] as number);
    }
    const firsts = new Set<number>();
    for (const alt of alternatives) {
      if (alt.length === 0 || firsts.has(alt[0] as number)) return undefined;
      firsts.add(alt[0] as number);
    }
    let optional = false;
    if (this.peek() === "?") {
      optional = true;
      this.i++;
      if (this.peek() === "?" || this.peek() === "+") return undefined;
    } else if (this.peek() !== undefined && "*+{".includes(this.peek() as string)) return undefined;
    const lengths = alternatives.map((a) => a.length);
    const native = `(?:${alternatives.map((a) => a.map(codePointEscape).join("")).join("|")})`;
    return {
      first: normalize([...firsts].flatMap((cp) => [cp, cp])),
      min: optional ? 0 : Math.min(...lengths),
      max: Math.max(...lengths),
      choice: optional,
      native: optional ? `${native}?` : native,
    };
  }

  /** A quantifier after a char set (none is {1}); undefined for lazy, possessive or malformed ones. */
  private quantifier(): { min: number; max: number; text: string } | undefined {
    const c = this.peek();
    let min = 1;
    let max = 1;
    if (c === "*" || c === "+" || c === "?") {
      this.i++;
      min = c === "+" ? 1 : 0;
      max = c === "?" ? 1 : Number.POSITIVE_INFINITY;
    } else if (c === "{") {
      const rest = String.fromCodePoint(...this.cps.slice(this.i, this.i + 16));
      const m = /^\{(\d{1,4})(,(\d{1,4})?)?\}/.exec(rest);
      if (!m) return undefined;
      this.i += Array.from(m[0]).length;
      min = Number(m[1]);
      max = m[2] === undefined ? min : m[3] === undefined ? Number.POSITIVE_INFINITY : Number(m[3]);
      if (max < min) return undefined;
    } else return { min, max, text: "" };
    const after = this.peek();
    if (after === "?" || after === "+" || after === "*" || after === "{") return undefined;
    return { min, max, text: quantifierText(min, max) };
  }

  /** After `\`: a Perl class, a control char or escaped ASCII punctuation. */
  private escape(singleOnly: boolean): Ranges | undefined {
    this.i++;
    const c = this.peek();
    if (c === undefined) return undefined;
    this.i++;
    const control = CONTROL_ESCAPES[c];
    if (control !== undefined) return [control, control];
    if (ASCII_PUNCTUATION.test(c)) {
      const cp = c.codePointAt(0) as number;
      return [cp, cp];
    }
    if (singleOnly) return undefined;
    const perl = perlClass(c);
    return perl;
  }

  /** `[…]` or `[^…]` of literal chars, ranges and positive Perl classes. */
  private charClass(): Ranges | undefined {
    this.i++;
    let negated = false;
    if (this.peek() === "^") {
      negated = true;
      this.i++;
    }
    // RE2 reads a leading `]` as a literal; JS does not: leave such classes to RE2.
    if (this.peek() === "]") return undefined;
    const parts: number[] = [];
    for (;;) {
      const c = this.peek();
      if (c === undefined) return undefined;
      if (c === "]") {
        this.i++;
        break;
      }
      const lo = this.classAtom();
      if (!lo) return undefined;
      if (this.peek() === "-" && this.peek(1) !== "]") {
        if (lo[0] !== lo[1] || lo.length !== 2) return undefined;
        this.i++;
        const hi = this.classAtom();
        if (!hi || hi[0] !== hi[1] || hi.length !== 2 || (hi[0] as number) < (lo[0] as number))
          return undefined;
        parts.push(lo[0] as number, hi[0] as number);
        if (this.peek() === "-" && this.peek(1) !== "]") return undefined;
        continue;
      }
      parts.push(...lo);
    }
    const set = normalize(parts);
    return negated ? complement(set) : set;
  }

  private classAtom(): Ranges | undefined {
    const c = this.peek();
    if (c === undefined || c === "[") return undefined;
    if (c === "\\") {
      const next = this.peek(1);
      // Negated Perl classes inside a class would need set subtraction in the native text.
      if (next === "D" || next === "W" || next === "S") return undefined;
      return this.escape(false);
    }
    const cp = this.cps[this.i++] as number;
    return [cp, cp];
  }
}

function perlClass(c: string): Ranges | undefined {
  switch (c) {
    case "d":
      return DIGIT;
    case "D":
      return complement(DIGIT);
    case "w":
      return WORD;
    case "W":
      return complement(WORD);
    case "s":
      return SPACE;
    case "S":
      return complement(SPACE);
    default:
      return undefined;
  }
}

function normalize(pairs: readonly number[]): Ranges {
  const list: [number, number][] = [];
  for (let k = 0; k < pairs.length; k += 2) list.push([pairs[k] as number, pairs[k + 1] as number]);
  list.sort((a, b) => a[0] - b[0]);
  const out: number[] = [];
  for (const [lo, hi] of list) {
    const last = out.length - 1;
    if (last > 0 && lo <= (out[last] as number) + 1) out[last] = Math.max(out[last] as number, hi);
    else out.push(lo, hi);
  }
  return out;
}

function union(a: Ranges, b: Ranges): Ranges {
  return normalize([...a, ...b]);
}

function complement(set: Ranges): Ranges {
  const out: number[] = [];
  let next = 0;
  for (let k = 0; k < set.length; k += 2) {
    const lo = set[k] as number;
    if (lo > next) out.push(next, lo - 1);
    next = (set[k + 1] as number) + 1;
  }
  if (next <= MAX_CODE_POINT) out.push(next, MAX_CODE_POINT);
  return out;
}

function overlaps(a: Ranges, b: Ranges): boolean {
  for (let x = 0; x < a.length; x += 2)
    for (let y = 0; y < b.length; y += 2)
      if ((a[x] as number) <= (b[y + 1] as number) && (b[y] as number) <= (a[x + 1] as number)) return true;
  return false;
}

function quantifierText(min: number, max: number): string {
  if (max === Number.POSITIVE_INFINITY) return min === 0 ? "*" : min === 1 ? "+" : `{${min},}`;
  if (min === max) return min === 1 ? "" : `{${min}}`;
  return min === 0 && max === 1 ? "?" : `{${min},${max}}`;
}

function classText(set: Ranges): string {
  if (set.length === 2 && set[0] === set[1]) return codePointEscape(set[0] as number);
  let text = "";
  for (let k = 0; k < set.length; k += 2) {
    const lo = set[k] as number;
    const hi = set[k + 1] as number;
    text += lo === hi ? codePointEscape(lo) : `${codePointEscape(lo)}-${codePointEscape(hi)}`;
  }
  return `[${text}]`;
}

function codePointEscape(cp: number): string {
  return `\\u{${cp.toString(16)}}`;
}
