import { parseJsonText } from "./json-text.js";

/** Arguments as a re-parsing server hands them to the tool, and which top-level keys it changed. */
export interface Reparsed {
  readonly args: Record<string, unknown>;
  /** Keys whose string value the server replaces by the object, array or null it parses as. */
  readonly changed: ReadonlySet<string>;
  /** Keys whose JSON nests deeper than the limit (refused by the caller). */
  readonly tooDeep: readonly string[];
}

/**
 * The arguments as the official MCP Python SDK's FastMCP servers hand them to a tool
 * (`FuncMetadata.pre_parse_json`): every top-level string value that Python's `json.loads` parses
 * into an object, an array or `null` is replaced by that value; strings that parse as a string,
 * number or boolean, and strings that are not JSON, stay as sent. (The server skips parameters
 * annotated exactly `str`; a gate does not know the annotations, so every key is treated as one
 * that is re-parsed.) Null when no value changes.
 */
export function reparsedArguments(args: Record<string, unknown>, maxDepth: number): Reparsed | null {
  let out: Record<string, unknown> | undefined;
  let changed: Set<string> | undefined;
  let tooDeep: string[] | undefined;
  // Runs on every call an args rule checks: keys (no pair per member), and nothing allocated
  // unless a string may re-parse.
  const keys = Object.keys(args);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    const value = args[key];
    if (typeof value !== "string" || !mayBeReparsed(value)) continue;
    const r = parseJsonText(value, maxDepth);
    if (r.kind === "too_deep") {
      tooDeep ??= [];
      tooDeep.push(key);
    }
    if (r.kind !== "value" || (r.value !== null && typeof r.value !== "object")) continue;
    out ??= { ...args };
    changed ??= new Set();
    // defineProperty: a key named `__proto__` stays an own property, as in the parsed call.
    Object.defineProperty(out, key, { value: r.value, enumerable: true, writable: true, configurable: true });
    changed.add(key);
  }
  if (!out && tooDeep === undefined) return null;
  return { args: out ?? args, changed: changed ?? new Set(), tooDeep: tooDeep ?? [] };
}

/** Could `json.loads` give an object, array or null here? (First non-whitespace `{`, `[` or `n`.) */
function mayBeReparsed(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) continue;
    return c === 0x7b || c === 0x5b || c === 0x6e; // `{`, `[`, `n`
  }
  return false;
}
