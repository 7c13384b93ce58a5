import { ASCII_PUNCTUATION, CONTROL_ESCAPES } from "./regex-linear.js";

/**
 * Literal strings a pattern cannot match without: a set such that every match of the pattern
 * contains at least one of them. A text that holds none of them cannot match, and is told so by a
 * few `includes` instead of a run of re2js, which costs a gate ~1 µs a string (the credentials
 * pattern of mcp-baseline runs on every string of every call). The same idea as RE2's prefilter,
 * for a restricted syntax: anything this does not understand (flags, `\x`, `\p`, `\Q`, POSIX
 * classes...) gives no set, and the pattern always runs.
 *
 * Soundness, item by item: a match of a concatenation holds a match of each item that must occur
 * (a literal char, a group, or an item repeated at least once), and unrepeated literal chars in a
 * row occur as one string; a match of an alternation holds a match of one of its branches.
 */

/** At most this many strings in a set: past it, checking them would cost more than it saves. */
const MAX_NEEDLES = 16;
/** Groups nested deeper than this are not read (RE2 takes far deeper `(?:` nesting; the stack might not). */
const MAX_GROUP_DEPTH = 64;

/** A literal char, a set of strings one of which occurs, a zero-width assertion, or anything. */
type Atom = { lit: string } | { need: readonly string[] | undefined } | "zero" | "other";

class Unknown extends Error {}

/** The literal strings one of which every match of `pattern` (RE2 syntax, accepted by RE2) holds, or undefined. */
export function requiredLiterals(pattern: string): readonly string[] | undefined {
  try {
    const p = new LiteralParser(pattern);
    const need = p.alternation();
    if (!p.done()) return undefined;
    return need !== undefined && need.length > 0 && need.every((s) => s.length > 0) ? need : undefined;
  } catch (err) {
    if (err instanceof Unknown) return undefined;
    throw err;
  }
}

/** Whether `text` holds one of `needles`. */
export function holdsAny(text: string, needles: readonly string[]): boolean {
  for (let i = 0; i < needles.length; i++) if (text.includes(needles[i] as string)) return true;
  return false;
}

class LiteralParser {
  private readonly cps: string[];
  private i = 0;
  private depth = 0;

  constructor(pattern: string) {
    this.cps = Array.from(pattern);
  }

  done(): boolean {
    return this.i === this.cps.length;
  }

  /** `a|b|...`: every branch must give a set, and the union is the set. */
  alternation(): readonly string[] | undefined {
    const branches = [this.concatenation()];
    while (this.peek() === "|") {
      this.i++;
      branches.push(this.concatenation());
    }
    if (branches.length === 1) return branches[0];
    const union = new Set<string>();
    for (const b of branches) {
      if (b === undefined) return undefined;
      for (const s of b) union.add(s);
    }
    return union.size <= MAX_NEEDLES ? [...union] : undefined;
  }

  /** Items in a row: the most selective set any of them gives (longest shortest string, then fewest). */
  private concatenation(): readonly string[] | undefined {
    let best: readonly string[] | undefined;
    const consider = (need: readonly string[] | undefined) => {
      if (need === undefined || need.length === 0) return;
      if (best === undefined || better(need, best)) best = need;
    };
    // Unrepeated literal chars in a row, considered as one string when the row ends.
    let run = "";
    const endRun = () => {
      if (run !== "") consider([run]);
      run = "";
    };
    for (;;) {
      const c = this.peek();
      if (c === undefined || c === "|" || c === ")") break;
      const atom = this.atom();
      const min = this.quantifier();
      if (min === undefined && typeof atom === "object" && "lit" in atom) {
        run += atom.lit;
        continue;
      }
      endRun();
      if (typeof atom !== "object") continue;
      // Unrepeated, or repeated at least once: the item occurs in every match.
      if (min === undefined || min >= 1) consider("lit" in atom ? [atom.lit] : atom.need);
    }
    endRun();
    return best;
  }

  private atom(): Atom {
    const c = this.next();
    switch (c) {
      case "(": {
        if (++this.depth > MAX_GROUP_DEPTH) throw new Unknown();
        if (this.peek() === "?") {
          // `(?:` groups; `(?P<name>` and `(?<name>` capture. Flags change what matches: unknown.
          if (this.peek(1) === ":") this.i += 2;
          else if (this.peek(1) === "P" && this.peek(2) === "<") this.skipName(3);
          else if (this.peek(1) === "<") this.skipName(2);
          else throw new Unknown();
        }
        const need = this.alternation();
        if (this.next() !== ")") throw new Unknown();
        this.depth--;
        return { need };
      }
      case "[":
        this.skipClass();
        return "other";
      case ".":
        return "other";
      case "^":
      case "$":
        return "zero";
      case "\\": {
        const e = this.next();
        if (e === undefined) throw new Unknown();
        if ("dDwWsS".includes(e)) return "other";
        if ("bBAz".includes(e)) return "zero";
        const control = CONTROL_ESCAPES[e];
        if (control !== undefined) return { lit: String.fromCharCode(control) };
        if (ASCII_PUNCTUATION.test(e)) return { lit: e };
        throw new Unknown();
      }
      case undefined:
      case "*":
      case "+":
      case "?":
      case "{":
      case "}":
      case "]":
        throw new Unknown();
      default: {
        // A surrogate or U+FFFD: how an engine reads ill-formed UTF-16 is not something to bet on.
        const cp = c.codePointAt(0) as number;
        if ((cp >= 0xd800 && cp <= 0xdfff) || cp === 0xfffd) throw new Unknown();
        return { lit: c };
      }
    }
  }

  /** The minimum count of a quantifier after an atom (`*`, `+`, `?`, `{n}`, `{n,}`, `{n,m}`, each maybe lazy), or undefined. */
  private quantifier(): number | undefined {
    const c = this.peek();
    let min: number;
    if (c === "*" || c === "?") min = 0;
    else if (c === "+") min = 1;
    else if (c === "{") {
      // `{n}`, `{n,}` or `{n,m}`, read in place; RE2 reads anything else there as literal text.
      let j = this.i + 1;
      const digitsFrom = j;
      while (isDigit(this.cps[j])) j++;
      if (j === digitsFrom || j - digitsFrom > 4) throw new Unknown();
      min = Number(this.cps.slice(digitsFrom, j).join(""));
      if (this.cps[j] === ",") {
        j++;
        while (isDigit(this.cps[j])) j++;
      }
      if (this.cps[j] !== "}") throw new Unknown();
      this.i = j;
    } else return undefined;
    this.i++;
    if (this.peek() === "?") this.i++;
    const after = this.peek();
    // Another quantifier right after one is not RE2 syntax this reads.
    if (after === "*" || after === "+" || after === "?" || after === "{") throw new Unknown();
    return min;
  }

  /** Past `[...]`: `^` and a leading `]` belong to it, escapes are two chars; POSIX classes are unknown. */
  private skipClass(): void {
    if (this.peek() === "^") this.i++;
    if (this.peek() === "]") this.i++;
    for (;;) {
      const c = this.next();
      if (c === undefined) throw new Unknown();
      if (c === "]") return;
      if (c === "[" && this.peek() === ":") throw new Unknown();
      if (c === "\\") {
        const e = this.next();
        // `\x{...}`, `\p{...}` hold no `]`, but say nothing literal here either way.
        if (e === undefined) throw new Unknown();
      }
    }
  }

  /** Past a group's name and its `>`: word chars only, so `(?<=` and `(?<!` (lookbehind, were RE2 ever asked to allow it) are unknown. */
  private skipName(from: number): void {
    this.i += from;
    const start = this.i;
    for (;;) {
      const c = this.next();
      if (c === ">" && this.i - 1 > start) return;
      if (c === undefined || !/^\w$/.test(c)) throw new Unknown();
    }
  }

  private peek(offset = 0): string | undefined {
    return this.cps[this.i + offset];
  }

  private next(): string | undefined {
    return this.cps[this.i++];
  }
}

function isDigit(c: string | undefined): boolean {
  return c !== undefined && c >= "0" && c <= "9";
}

/** Whether set `a` tells more texts apart than `b`: a longer shortest string, then fewer strings. */
function better(a: readonly string[], b: readonly string[]): boolean {
  const la = Math.min(...a.map((s) => s.length));
  const lb = Math.min(...b.map((s) => s.length));
  return la !== lb ? la > lb : a.length < b.length;
}
