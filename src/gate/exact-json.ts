import { escapeSegment } from "../policy/json-pointer.js";
/**
 * JSON that keeps numbers as they were written. `JSON.parse` reads every number as a double, so
 * re-encoding a parsed message changes `9007199254740993` into `9007199254740992` and `1.0`
 * into `1`: a server would get another value (or type) than the client sent. The gate decides
 * on the parsed message and forwards its own encoding of it; these helpers make that encoding
 * write each number the way the message it came from wrote it.
 */

/** A number whose text `JSON.stringify` would not give back (`1.0`, `1e3`, `-0`, 2^53 + 1). */
export class ExactNumber {
  constructor(
    /** The number as written. */
    readonly text: string,
    /** What `JSON.parse` reads it as. */
    readonly value: number,
  ) {}
}

/** Where the number token at `i` ends. INVARIANT: `text` is valid JSON and a number starts at `i`. */
function numberEnd(text: string, i: number): number {
  let j = i + 1;
  for (;;) {
    const c = text.charCodeAt(j);
    // Digits, `.`, `e`, `E`, `+`, `-`: what a number token is made of, and nothing that may follow one.
    if ((c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x65 || c === 0x45 || c === 0x2b || c === 0x2d) j++;
    else return j;
  }
}

/** Whether a number token reads back as itself (`JSON.stringify(JSON.parse(t)) === t`). */
function exact(token: string, value = Number(token)): boolean {
  // Fast path: an integer of at most 15 digits (JSON has no leading zeros) other than -0.
  const digits = token.charCodeAt(0) === 0x2d ? token.length - 1 : token.length;
  if (digits <= 15 && token !== "-0") {
    let plain = true;
    for (let k = 0; k < token.length && plain; k++) {
      const c = token.charCodeAt(k);
      plain = (c >= 0x30 && c <= 0x39) || (k === 0 && c === 0x2d);
    }
    if (plain) return true;
  }
  // A fraction ending in 0 (`1.0`, `2.50`) is never how JavaScript writes a number.
  if (
    token.charCodeAt(token.length - 1) === 0x30 &&
    token.includes(".") &&
    !token.includes("e") &&
    !token.includes("E")
  )
    return false;
  return String(value) === token;
}

/** The index just past the string that starts at `start` (a `"`). INVARIANT: `text` is valid JSON. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  for (;;) {
    const q = text.indexOf('"', i);
    // A quote preceded by an odd run of backslashes is escaped.
    let slashes = 0;
    for (let j = q - 1; text.charCodeAt(j) === 0x5c; j--) slashes++;
    if (slashes % 2 === 0) return q + 1;
    i = q + 1;
  }
}

/** What one linear scan of a message's text tells: how deep it nests, and whether numbers keep their text. */
export interface JsonTextFacts {
  /** The deepest nesting of objects and arrays (0 for a scalar). */
  readonly depth: number;
  /** Whether the text holds a number that re-encoding would write differently. */
  readonly inexact: boolean;
}

/**
 * Scan valid JSON `text` once. Linear, and cheap for what clients usually send (small integers),
 * so it runs on every frame. INVARIANT: `JSON.parse(text)` succeeded.
 */
export function scanJsonText(text: string): JsonTextFacts {
  const n = text.length;
  let depth = 0;
  let max = 0;
  let inexact = false;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      i = stringEnd(text, i) - 1;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) max = depth;
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      const end = numberEnd(text, i);
      if (!inexact && !exact(text.slice(i, end))) inexact = true;
      i = end - 1;
    }
  }
  return { depth: max, inexact };
}

/** Whether valid JSON `text` holds a number that re-encoding would write differently. */
export function hasInexactNumber(text: string): boolean {
  return scanJsonText(text).inexact;
}

type Twin = null | boolean | number | string | ExactNumber | Twin[] | { [key: string]: Twin };

/**
 * Parse valid JSON `text` as `JSON.parse` does (the last of duplicate keys wins, in the first
 * one's place), except that a number re-encoding would change is an ExactNumber. Objects have
 * no prototype, so `__proto__` is an ordinary key, as it is in what `JSON.parse` returns.
 * INVARIANT: `JSON.parse(text)` succeeded.
 */
export function parseExact(text: string): unknown {
  let i = 0;
  const ws = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) i++;
      else return;
    }
  };
  const str = (): string => {
    const end = stringEnd(text, i);
    const raw = text.slice(i, end);
    i = end;
    return raw.includes("\\") ? (JSON.parse(raw) as string) : raw.slice(1, -1);
  };
  /** A member's key and its `:`, leaving `i` at its value. */
  const readKey = (): string => {
    ws();
    const k = str();
    ws();
    i++; // ':'
    return k;
  };
  // Iterative, so nesting is bounded by memory rather than the call stack.
  const root: { v: Twin } = { v: null };
  const stack: { node: Twin[] | Record<string, Twin>; key: string | null }[] = [];
  const put = (v: Twin) => {
    const top = stack[stack.length - 1];
    if (top === undefined) root.v = v;
    else if (Array.isArray(top.node)) top.node.push(v);
    else top.node[top.key as string] = v;
  };
  for (;;) {
    ws();
    const c = text.charCodeAt(i);
    if (c === 0x7b) {
      i++;
      const node = Object.create(null) as Record<string, Twin>;
      put(node);
      stack.push({ node, key: null });
      ws();
      if (text.charCodeAt(i) === 0x7d) {
        i++;
        stack.pop();
      } else {
        (stack[stack.length - 1] as { key: string | null }).key = readKey();
        continue;
      }
    } else if (c === 0x5b) {
      i++;
      const node: Twin[] = [];
      put(node);
      stack.push({ node, key: null });
      ws();
      if (text.charCodeAt(i) === 0x5d) {
        i++;
        stack.pop();
      } else continue;
    } else if (c === 0x22) {
      put(str());
    } else if (c === 0x74) {
      i += 4;
      put(true);
    } else if (c === 0x66) {
      i += 5;
      put(false);
    } else if (c === 0x6e) {
      i += 4;
      put(null);
    } else {
      const end = numberEnd(text, i);
      const token = text.slice(i, end);
      i = end;
      const value = Number(token);
      put(exact(token, value) ? value : new ExactNumber(token, value));
    }
    // After a value: close what ends here, or move to the next member.
    for (;;) {
      const open = stack[stack.length - 1];
      if (open === undefined) return root.v;
      ws();
      const d = text.charCodeAt(i++);
      if (d === 0x2c) {
        if (!Array.isArray(open.node)) open.key = readKey();
        break;
      }
      stack.pop(); // '}' or ']'
    }
  }
}

/** The text a message came in, read again so that its numbers keep their text (see exactSource). */
export interface ExactSource {
  readonly twin: unknown;
}

/**
 * `source` read again with its numbers as written, when it holds one that re-encoding would
 * change; undefined (the usual case, after one linear scan) when `JSON.stringify` of what
 * `JSON.parse` read gives every number back. INVARIANT: `source` is valid JSON.
 */
export function exactSource(source: string, facts = scanJsonText(source)): ExactSource | undefined {
  return facts.inexact ? { twin: parseExact(source) } : undefined;
}

/**
 * The ids of requests (a message, or a batch's members) that re-encoding would change (`1.0`,
 * 2^53 + 1). Responses are not tracked by the gate: their ids go on as written.
 */
export function inexactIds(src: ExactSource): ExactNumber[] {
  const out: ExactNumber[] = [];
  for (const m of Array.isArray(src.twin) ? src.twin : [src.twin]) {
    if (m === null || typeof m !== "object" || Array.isArray(m) || m instanceof ExactNumber) continue;
    const r = m as Record<string, unknown>;
    if (typeof r.method === "string" && r.id instanceof ExactNumber) out.push(r.id);
  }
  return out;
}

/** A number whose value a double cannot hold, where it stands. */
export interface LossyNumber {
  readonly pointer: string;
  readonly text: string;
}

/**
 * The first number under `value` (a twin) whose decimal value is not the value of the double it
 * reads as (`1234567890123456700`, `0.30000000000000000001`, `1e400`), with its JSON pointer under
 * `pointer`. Respellings of the same value (`1.0`, `1e3`, `-0`) are not reported.
 */
export function lossyNumber(value: unknown, pointer: string): LossyNumber | undefined {
  const stack: [unknown, string][] = [[value, pointer]];
  while (stack.length > 0) {
    const [v, at] = stack.pop() as [unknown, string];
    if (v instanceof ExactNumber) {
      if (!sameDecimal(v.text, v.value)) return { pointer: at, text: v.text };
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push([v[i], `${at}/${i}`]);
    } else if (v !== null && typeof v === "object") {
      const keys = Object.keys(v);
      for (let i = keys.length - 1; i >= 0; i--) {
        const k = keys[i] as string;
        stack.push([(v as Record<string, unknown>)[k], `${at}/${escapeSegment(k)}`]);
      }
    }
  }
  return undefined;
}

/** Whether number token `text` denotes exactly the decimal value of the double `value`. */
function sameDecimal(text: string, value: number): boolean {
  if (!Number.isFinite(value)) return false;
  const a = decimal(text);
  const b = decimal(String(value));
  return a.digits === b.digits && (a.digits === "" || (a.neg === b.neg && a.exp === b.exp));
}

/** A JSON number as sign, significant digits (no leading or trailing zeros) and exponent. */
function decimal(text: string): { neg: boolean; digits: string; exp: number } {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) return { neg: false, digits: "?", exp: Number.NaN };
  const frac = m[3] ?? "";
  let digits = `${m[2]}${frac}`.replace(/^0+/, "");
  let exp = Number(m[4] ?? "0") - frac.length;
  const trimmed = digits.replace(/0+$/, "");
  exp += digits.length - trimmed.length;
  digits = trimmed;
  return { neg: m[1] === "-", digits, exp };
}

/**
 * The JSON text of `value`, as `JSON.stringify` writes it, except that numbers keep the text they
 * had in `source` (the text `parsed` was read from) wherever `value` holds them: in the objects
 * and arrays of `parsed` it reuses, and at the same place in an object it made anew. An
 * ExactNumber id (in the gate's own answers) is written as its text.
 */
export function encodeJson(value: unknown, source?: ExactSource, parsed?: unknown): string {
  if (source === undefined) {
    return exactId(value) ? write(value, undefined, undefined) : (JSON.stringify(value) as string);
  }
  const same = new Map<object, Twin>();
  if (parsed !== undefined) pair(parsed, source.twin as Twin, same);
  return write(value, source.twin as Twin, same);
}

/** Map each object and array of `parsed` to its twin (both were read from the same text). */
function pair(parsed: unknown, twin: Twin, same: Map<object, Twin>): void {
  const stack: [unknown, Twin][] = [[parsed, twin]];
  while (stack.length > 0) {
    const [p, t] = stack.pop() as [unknown, Twin];
    if (p === null || typeof p !== "object" || t === null || typeof t !== "object") continue;
    if (t instanceof ExactNumber) continue;
    same.set(p, t);
    // Only objects and arrays are paired: numbers are found through their container.
    if (Array.isArray(p)) {
      if (!Array.isArray(t) || t.length !== p.length) continue;
      for (let i = 0; i < p.length; i++) {
        const c = p[i];
        if (c !== null && typeof c === "object") stack.push([c, t[i] as Twin]);
      }
    } else if (!Array.isArray(t)) {
      for (const k of Object.keys(p)) {
        const c = (p as Record<string, unknown>)[k];
        if (c !== null && typeof c === "object") stack.push([c, t[k] as Twin]);
      }
    }
  }
}

/** Whether a message (or a member of a batch) has an ExactNumber id: the gate's answers may carry one. */
function exactId(value: unknown): boolean {
  if (!Array.isArray(value)) return hasExactId(value);
  for (const m of value) if (hasExactId(m)) return true;
  return false;
}

function hasExactId(m: unknown): boolean {
  return m !== null && typeof m === "object" && (m as { id?: unknown }).id instanceof ExactNumber;
}

/**
 * `JSON.stringify` for JSON-shaped values (what JSON.parse returns, and objects made of it):
 * undefined members are left out (null in arrays). `hint` is the twin at the same place.
 */
function write(value: unknown, hint: Twin | undefined, same: Map<object, Twin> | undefined): string {
  if (value instanceof ExactNumber) return value.text;
  if (typeof value === "number") {
    return hint instanceof ExactNumber && Object.is(hint.value, value) ? hint.text : JSON.stringify(value);
  }
  if (value === null || typeof value !== "object") return JSON.stringify(value) ?? "null";
  const twin = same?.get(value);
  if (twin !== undefined) return write(twin, undefined, undefined);
  if (Array.isArray(value)) {
    const h = Array.isArray(hint) ? hint : undefined;
    let out = "[";
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ",";
      const v = value[i];
      out += v === undefined || typeof v === "function" ? "null" : write(v, h?.[i], same);
    }
    return `${out}]`;
  }
  const h =
    hint !== null && typeof hint === "object" && !Array.isArray(hint) && !(hint instanceof ExactNumber)
      ? hint
      : undefined;
  let out = "{";
  let first = true;
  for (const k of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[k];
    if (v === undefined || typeof v === "function") continue;
    out += `${first ? "" : ","}${JSON.stringify(k)}:${write(v, h !== undefined && Object.hasOwn(h, k) ? h[k] : undefined, same)}`;
    first = false;
  }
  return `${out}}`;
}
