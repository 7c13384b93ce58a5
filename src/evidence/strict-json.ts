import type { StrictJsonCode } from "../lib/errors.js";

export type { StrictJsonCode };

/** A strict-parse failure: the code, a one-line message and where (0-based offset, 1-based line/col). */
export class StrictJsonError extends Error {
  constructor(
    readonly code: StrictJsonCode,
    message: string,
    readonly offset: number,
    readonly line: number,
    readonly column: number,
  ) {
    super(message);
    this.name = "StrictJsonError";
  }
}

export interface StrictJsonOptions {
  /** Deepest allowed nesting of arrays and objects (the top-level container is depth 1). */
  maxDepth?: number;
  /**
   * `i-json` (the default): refuse, as `json_unsafe_number`, an integer a double cannot hold (RFC
   * 7493 §2.2): one whose canonical form would be a different integer (`9007199254740993`); a
   * fraction reads as its nearest double, as in RFC 8785's own examples. `rfc8785`: read every
   * number as the IEEE 754 double nearest to it, as RFC 8785 §3.2.2.3 and other JCS
   * implementations do (`9007199254740993` reads as 2^53). Either way a number beyond the double
   * range (`1e400`) is refused: it has no canonical form.
   */
  numbers?: NumberSemantics;
}

/** How numbers a double cannot hold exactly are read: see `StrictJsonOptions.numbers`. */
export type NumberSemantics = "i-json" | "rfc8785";

export const DEFAULT_MAX_DEPTH = 64;

// Integers with at most 15 digits are always exact doubles; longer ones must print back unchanged.
const SAFE_DIGITS = 15;

/**
 * Parse JSON text the way JSON.parse does, but refuse what is not I-JSON instead of silently
 * changing it: duplicate object keys, lone surrogates (escaped; raw ones cannot survive UTF-8
 * decoding), numbers a double cannot hold (overflow to infinity; by default also integers beyond
 * 2^53 whose canonical form would be a different integer, see `numbers`) and nesting deeper than
 * `maxDepth`. Leading and trailing JSON whitespace is allowed.
 */
export function parseStrictJson(text: string, opts: StrictJsonOptions = {}): unknown {
  return new Parser(text, opts.maxDepth ?? DEFAULT_MAX_DEPTH, opts.numbers !== "rfc8785").parseDocument();
}

class Parser {
  private i = 0;
  private depth = 0;

  constructor(
    private readonly s: string,
    private readonly maxDepth: number,
    private readonly exactIntegers: boolean,
  ) {}

  parseDocument(): unknown {
    this.ws();
    const v = this.value();
    this.ws();
    if (this.i < this.s.length) this.fail("json_syntax", `unexpected ${this.describe()} after the value`);
    return v;
  }

  private value(): unknown {
    const c = this.s.charCodeAt(this.i);
    switch (c) {
      case 0x7b:
        return this.object();
      case 0x5b:
        return this.array();
      case 0x22:
        return this.string();
      case 0x74:
        return this.literal("true", true);
      case 0x66:
        return this.literal("false", false);
      case 0x6e:
        return this.literal("null", null);
      default:
        if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return this.number();
        return this.fail("json_syntax", `unexpected ${this.describe()}`);
    }
  }

  private enter(): void {
    if (++this.depth > this.maxDepth)
      this.fail("json_too_deep", `nesting deeper than ${this.maxDepth} levels`);
  }

  private object(): Record<string, unknown> {
    this.enter();
    this.i++;
    const out: Record<string, unknown> = {};
    this.ws();
    if (this.s.charCodeAt(this.i) === 0x7d) {
      this.i++;
      this.depth--;
      return out;
    }
    for (;;) {
      if (this.s.charCodeAt(this.i) !== 0x22)
        this.fail("json_syntax", `expected a key, found ${this.describe()}`);
      const keyAt = this.i;
      const key = this.string();
      if (Object.hasOwn(out, key)) {
        this.i = keyAt;
        this.fail("json_duplicate_key", `duplicate key \`${key}\``);
      }
      this.ws();
      if (this.s.charCodeAt(this.i) !== 0x3a)
        this.fail("json_syntax", `expected \`:\`, found ${this.describe()}`);
      this.i++;
      this.ws();
      const v = this.value();
      // A plain assignment to `__proto__` would set the prototype; JSON.parse makes an own property.
      if (key === "__proto__")
        Object.defineProperty(out, key, { value: v, enumerable: true, writable: true, configurable: true });
      else out[key] = v;
      this.ws();
      const c = this.s.charCodeAt(this.i);
      if (c === 0x2c) {
        this.i++;
        this.ws();
      } else if (c === 0x7d) {
        this.i++;
        this.depth--;
        return out;
      } else this.fail("json_syntax", `expected \`,\` or \`}\`, found ${this.describe()}`);
    }
  }

  private array(): unknown[] {
    this.enter();
    this.i++;
    const out: unknown[] = [];
    this.ws();
    if (this.s.charCodeAt(this.i) === 0x5d) {
      this.i++;
      this.depth--;
      return out;
    }
    for (;;) {
      out.push(this.value());
      this.ws();
      const c = this.s.charCodeAt(this.i);
      if (c === 0x2c) {
        this.i++;
        this.ws();
      } else if (c === 0x5d) {
        this.i++;
        this.depth--;
        return out;
      } else this.fail("json_syntax", `expected \`,\` or \`]\`, found ${this.describe()}`);
    }
  }

  private string(): string {
    const s = this.s;
    const start = ++this.i;
    // Fast path: no escapes, no surrogates to check.
    for (let j = start; j < s.length; j++) {
      const c = s.charCodeAt(j);
      if (c === 0x22) {
        this.i = j + 1;
        return s.slice(start, j);
      }
      if (c === 0x5c || c < 0x20 || (c >= 0xd800 && c <= 0xdfff)) break;
    }
    // Checked escape by escape and unescaped as it goes, until the string grows long: past that,
    // pieces joined one by one pile up (an 18 MB string of escapes took ~6x as long as parsing it
    // whole), so the rest is only checked and JSON.parse unescapes the checked text at the end.
    let out = "";
    let building = true;
    let from = start;
    let j = start;
    for (;;) {
      if (j >= s.length) {
        this.i = j;
        this.fail("json_syntax", "unterminated string");
      }
      const c = s.charCodeAt(j);
      if (c === 0x22) {
        this.i = j + 1;
        return building ? out + s.slice(from, j) : (JSON.parse(s.slice(start - 1, j + 1)) as string);
      }
      if (c < 0x20) {
        this.i = j;
        this.fail("json_syntax", "control character in a string");
      }
      if (c >= 0xd800 && c <= 0xdfff) {
        // A raw surrogate half (only possible in text not decoded from UTF-8).
        const next = s.charCodeAt(j + 1);
        if (c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
          j += 2;
          continue;
        }
        this.i = j;
        this.fail("json_lone_surrogate", "lone surrogate in a string");
      }
      if (c !== 0x5c) {
        j++;
        continue;
      }
      const e = s.charCodeAt(j + 1);
      let ch: string;
      let length = 2;
      if (e === 0x75) {
        const u = this.hex4(j + 2);
        if (u >= 0xd800 && u <= 0xdbff) {
          const lo = s.charCodeAt(j + 6) === 0x5c && s.charCodeAt(j + 7) === 0x75 ? this.hex4(j + 8) : -1;
          if (lo < 0xdc00 || lo > 0xdfff) {
            this.i = j;
            this.fail("json_lone_surrogate", `lone surrogate \`${s.slice(j, j + 6)}\``);
          }
          ch = String.fromCharCode(u, lo);
          length = 12;
        } else if (u >= 0xdc00 && u <= 0xdfff) {
          this.i = j;
          this.fail("json_lone_surrogate", `lone surrogate \`${s.slice(j, j + 6)}\``);
        } else {
          ch = String.fromCharCode(u);
          length = 6;
        }
      } else {
        const simple = SIMPLE_ESCAPE.get(e);
        if (simple === undefined) {
          this.i = j;
          this.fail("json_syntax", "invalid escape in a string");
        }
        ch = simple;
      }
      if (building) out += s.slice(from, j) + ch;
      j += length;
      from = j;
      if (j - start > LONG_STRING) building = false;
    }
  }

  private hex4(at: number): number {
    let v = 0;
    for (let k = at; k < at + 4; k++) {
      const c = this.s.charCodeAt(k);
      const d =
        c >= 0x30 && c <= 0x39
          ? c - 0x30
          : c >= 0x61 && c <= 0x66
            ? c - 0x57
            : c >= 0x41 && c <= 0x46
              ? c - 0x37
              : -1;
      if (d < 0) {
        this.i = at - 2;
        this.fail("json_syntax", "invalid \\u escape in a string");
      }
      v = v * 16 + d;
    }
    return v;
  }

  private number(): number {
    const s = this.s;
    const start = this.i;
    let j = start;
    if (s.charCodeAt(j) === 0x2d) j++;
    const intStart = j;
    if (s.charCodeAt(j) === 0x30) j++;
    else if (isDigit(s.charCodeAt(j))) while (isDigit(s.charCodeAt(j))) j++;
    else return this.fail("json_syntax", "invalid number");
    const intDigits = j - intStart;
    let integer = true;
    if (s.charCodeAt(j) === 0x2e) {
      integer = false;
      j++;
      if (!isDigit(s.charCodeAt(j))) {
        this.i = j;
        this.fail("json_syntax", "invalid number");
      }
      while (isDigit(s.charCodeAt(j))) j++;
    }
    const e = s.charCodeAt(j);
    if (e === 0x65 || e === 0x45) {
      integer = false;
      j++;
      const sign = s.charCodeAt(j);
      if (sign === 0x2b || sign === 0x2d) j++;
      if (!isDigit(s.charCodeAt(j))) {
        this.i = j;
        this.fail("json_syntax", "invalid number");
      }
      while (isDigit(s.charCodeAt(j))) j++;
    }
    const token = s.slice(start, j);
    const n = Number(token);
    if (!Number.isFinite(n)) this.fail("json_unsafe_number", `number \`${clip(token)}\` is out of range`);
    if (
      this.exactIntegers &&
      integer &&
      intDigits > SAFE_DIGITS &&
      printedDigits(n) !== token.slice(intStart - start)
    )
      this.fail(
        "json_unsafe_number",
        `integer \`${clip(token)}\` cannot be represented exactly (beyond 2^53)`,
      );
    this.i = j;
    return n;
  }

  private literal<T>(word: string, v: T): T {
    if (!this.s.startsWith(word, this.i)) this.fail("json_syntax", `unexpected ${this.describe()}`);
    this.i += word.length;
    return v;
  }

  private ws(): void {
    const s = this.s;
    let c = s.charCodeAt(this.i);
    while (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) c = s.charCodeAt(++this.i);
  }

  private describe(): string {
    if (this.i >= this.s.length) return "end of input";
    const c = this.s.codePointAt(this.i) as number;
    const ch = String.fromCodePoint(c);
    // Controls, format characters (a byte-order mark, a soft hyphen), spaces and surrogate halves
    // would not show in a message: named by code point instead.
    if (INVISIBLE.test(ch)) return `U+${c.toString(16).toUpperCase().padStart(4, "0")}`;
    return `\`${ch}\``;
  }

  private fail(code: StrictJsonCode, message: string): never {
    const before = this.s.slice(0, this.i);
    const line = before.split("\n").length;
    const column = this.i - before.lastIndexOf("\n");
    throw new StrictJsonError(code, message, this.i, line, column);
  }
}

/** What `\` and the character after it stand for: `"`, `\`, `/`, b, f, n, r, t. */
const SIMPLE_ESCAPE: ReadonlyMap<number, string> = new Map([
  [0x22, '"'],
  [0x5c, "\\"],
  [0x2f, "/"],
  [0x62, "\b"],
  [0x66, "\f"],
  [0x6e, "\n"],
  [0x72, "\r"],
  [0x74, "\t"],
]);

const INVISIBLE = /^[\p{Cc}\p{Cf}\p{Z}\p{Cs}]$/u;

/** A string with escapes longer than this (UTF-16 units so far) is unescaped by JSON.parse. */
const LONG_STRING = 4096;

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

/**
 * The integer digits of |n| as ECMAScript prints it (what canonical JSON writes), with an
 * exponent form expanded: an integer token "changes meaning" when these differ from it.
 */
function printedDigits(n: number): string {
  const s = String(Math.abs(n));
  const m = /^(\d)(?:\.(\d+))?e\+(\d+)$/.exec(s);
  if (!m) return s;
  const frac = m[2] ?? "";
  return `${m[1]}${frac}${"0".repeat(Number(m[3]) - frac.length)}`;
}

function clip(token: string): string {
  return token.length > 40 ? `${token.slice(0, 37)}...` : token;
}
