/**
 * `structuredClone(value)`, taking a shortcut for what a JSON-RPC message usually is: plain
 * objects, arrays without holes or members of their own, strings, numbers, booleans, null and
 * undefined, each object reached once. Anything else (a Date, a Map, a class instance, an object
 * reached twice or from itself, a symbol, a function, `__proto__` as a key, nesting deeper than
 * MAX_DEPTH) is cloned by structuredClone itself, so the result is always what it gives. The
 * in-process gate copies every tool call it decides; structuredClone cost it ~2.6 µs a call.
 */
export function plainClone<T>(value: T): T {
  const out = copy(value, new Set(), 0);
  return (out === NOT_PLAIN ? structuredClone(value) : out) as T;
}

const NOT_PLAIN = Symbol("not plain");
const MAX_DEPTH = 64;

function copy(v: unknown, seen: Set<object>, depth: number): unknown {
  if (v === null) return v;
  switch (typeof v) {
    case "string":
    case "number":
    case "boolean":
    case "undefined":
    case "bigint":
      return v;
    case "object":
      break;
    default:
      // A function or a symbol: structuredClone refuses it, in its own way.
      return NOT_PLAIN;
  }
  const obj = v as object;
  // Shared or cyclic: structuredClone keeps the sharing, a copy would not.
  if (depth > MAX_DEPTH || seen.has(obj)) return NOT_PLAIN;
  seen.add(obj);
  const proto = Object.getPrototypeOf(obj);
  if (Array.isArray(obj)) {
    if (proto !== Array.prototype || Object.keys(obj).length !== obj.length) return NOT_PLAIN;
    const out = new Array(obj.length);
    for (let i = 0; i < obj.length; i++) {
      if (!(i in obj)) return NOT_PLAIN;
      const c = copy(obj[i], seen, depth + 1);
      if (c === NOT_PLAIN) return NOT_PLAIN;
      out[i] = c;
    }
    return out;
  }
  if (proto !== Object.prototype && proto !== null) return NOT_PLAIN;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(obj)) {
    // Assigned, it would set the copy's prototype rather than make a member.
    if (k === "__proto__") return NOT_PLAIN;
    const c = copy((obj as Record<string, unknown>)[k], seen, depth + 1);
    if (c === NOT_PLAIN) return NOT_PLAIN;
    out[k] = c;
  }
  return out;
}
