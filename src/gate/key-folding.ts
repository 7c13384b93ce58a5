import { escapeSegment } from "../policy/json-pointer.js";
// Keys a case-insensitive decoder would read differently from the gate.
//
// Go's encoding/json (and MCP servers and clients built on it) matches object keys to fields
// ignoring case, with Unicode simple folding (`ſ` is `s`, the Kelvin sign `K` is `k`), and the
// last match wins. A message carrying `"method": "ping", "Method": "tools/call"`, or `"path"`
// next to `"PATH"`, would be one thing to the gate and another to such a peer. The gate refuses
// (or hides) what is ambiguous in that way rather than guess which reading the peer makes.
//
// `__proto__` is ambiguous too: JSON.parse makes it an ordinary key, but a JavaScript peer that
// copies objects by assignment (Object.assign, a for...in copy, a hand-written merge) sets the
// copy's prototype from it, and the members under it appear on the copy: `{"__proto__": {"mode":
// "write"}}` has no `mode` to the gate and `mode: "write"` to such a server.

/**
 * A key as a case-insensitive decoder might match it. Over-approximated: lower, upper, lower
 * again takes `ſ` to `s`, `K` to `k`, and `ß` and `ẞ` (equal to Go) both to `ss` (which Go keeps
 * apart: refusing more is the safe side).
 */
export function foldKey(key: string): string {
  return key.toLowerCase().toUpperCase().toLowerCase();
}

/**
 * The first key of `obj` that a peer could read otherwise: one equal to an earlier key once
 * folded (`path`, `PATH`), one that folds to a name in `fields` without being it (`Method` for
 * `method`), or `__proto__`. Undefined when there is none.
 */
export function ambiguousKey(obj: object, fields: readonly string[] = NO_FIELDS): string | undefined {
  // The common case, every key one seen before to be plain and no other field's fold, with one
  // lookup a key and no array. for...in may also list inherited keys: those only send the object
  // the long way, which reads its own keys.
  const safe = safeKeys(fields);
  let allSafe = true;
  for (const k in obj) {
    if (!safe.has(k)) {
      allSafe = false;
      break;
    }
  }
  if (allSafe) return undefined;
  const keys = Object.keys(obj);
  // Never among the safe keys, so an object holding it always comes this way.
  if (keys.includes(PROTO)) return PROTO;
  const known = foldedFields(fields);
  // Most keys are lowercase ASCII, which fold to themselves: two of them cannot collide (JSON.parse
  // has merged equal keys), so only a field that folds to one of them needs looking up.
  if (keys.every(plainKey)) {
    for (const k of keys) {
      const field = known.get(k);
      if (field !== undefined && field !== k) return k;
    }
    // Each key is fine whatever the others are (plain keys fold to themselves, and an object has
    // no two equal keys): remembered for this list of fields.
    if (safe.size + keys.length > MAX_PLAIN_KEYS) safe.clear();
    for (const k of keys) safe.add(k);
    return undefined;
  }
  const seen = new Set<string>();
  for (const k of keys) {
    const f = foldKey(k);
    if (seen.has(f)) return k;
    seen.add(f);
    const field = known.get(f);
    if (field !== undefined && field !== k) return k;
  }
  return undefined;
}

/** A key JSON.parse keeps as a member and a JavaScript copy by assignment takes for the prototype. */
export const PROTO = "__proto__";
const NO_FIELDS: readonly string[] = [];
const folded = new WeakMap<readonly string[], Map<string, string>>();
/** Per list of fields: keys found plain that fold to no field but themselves (bounded). */
const safeByFields = new WeakMap<readonly string[], Set<string>>();

function safeKeys(fields: readonly string[]): Set<string> {
  let s = safeByFields.get(fields);
  if (!s) {
    s = new Set();
    safeByFields.set(fields, s);
  }
  return s;
}

/** Folded name → name, per (constant) list of field names. */
function foldedFields(fields: readonly string[]): Map<string, string> {
  let m = folded.get(fields);
  if (!m) {
    m = new Map(fields.map((f) => [foldKey(f), f]));
    folded.set(fields, m);
  }
  return m;
}

/**
 * `ambiguousKey` applied to every object inside `value` (arrays and objects, any depth; `value`
 * itself against `rootFields`), as a JSON pointer to the first ambiguous key. Iterative: the depth
 * of `value` is the caller's to bound.
 */
export function ambiguousKeyDeep(
  value: unknown,
  rootFields: readonly string[] = NO_FIELDS,
): string | undefined {
  // The walk keeps values only; the pointer is worked out when something is found (rarely).
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v !== "object") continue;
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push(v[i]);
      continue;
    }
    const bad = ambiguousKey(v, v === value ? rootFields : NO_FIELDS);
    if (bad !== undefined) return `${pointerTo(value, v) ?? ""}/${escapeSegment(bad)}`;
    for (const k in v) stack.push((v as Record<string, unknown>)[k]);
  }
  return undefined;
}

/** The JSON pointer of `target` (an object inside `root`), found depth-first. */
function pointerTo(root: unknown, target: object): string | undefined {
  const stack: Array<[unknown, string]> = [[root, ""]];
  while (stack.length > 0) {
    const [v, at] = stack.pop() as [unknown, string];
    if (v === target) return at;
    if (v === null || typeof v !== "object") continue;
    for (const [k, child] of Object.entries(v)) stack.push([child, `${at}/${escapeSegment(k)}`]);
  }
  return undefined;
}

/** Lowercase ASCII letters, digits and `_-./$@:`: folds to itself and to nothing else's fold. */
function plainKey(k: string): boolean {
  // The same few keys come in every message: a Set lookup is a fraction of the regex's cost.
  if (plainKeys.has(k)) return true;
  if (!PLAIN_KEY.test(k)) return false;
  if (plainKeys.size >= MAX_PLAIN_KEYS) plainKeys.clear();
  plainKeys.add(k);
  return true;
}

const PLAIN_KEY = /^[a-z0-9_\-./$@:]*$/;
/** Keys found plain, remembered; bounded, so keys a client makes up cannot grow it without end. */
const plainKeys = new Set<string>();
const MAX_PLAIN_KEYS = 1024;
