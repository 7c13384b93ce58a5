/** A string read as JSON, as Python's `json.loads` reads it. */
export type JsonText =
  | { readonly kind: "none" }
  | { readonly kind: "value"; readonly value: unknown }
  | { readonly kind: "too_deep" };

const NOT_JSON: JsonText = Object.freeze({ kind: "none" });
const TOO_DEEP: JsonText = Object.freeze({ kind: "too_deep" });
const PYTHON_ONLY = /NaN|Infinity/;

/** Does `text` look like a JSON object or array (JSON whitespace aside)? Cheap; no parsing. */
export function looksLikeJsonContainer(text: string): boolean {
  let i = 0;
  let j = text.length - 1;
  while (i <= j && isJsonSpace(text.charCodeAt(i))) i++;
  while (j > i && isJsonSpace(text.charCodeAt(j))) j--;
  const first = text.charCodeAt(i);
  const last = text.charCodeAt(j);
  return (first === 0x7b && last === 0x7d) || (first === 0x5b && last === 0x5d); // `{…}`, `[…]`
}

/**
 * Parse `text` as Python's `json.loads` does (what FastMCP calls on string arguments): JSON with
 * surrounding JSON whitespace, plus the bare tokens `NaN`, `Infinity` and `-Infinity`, read here
 * as `null`. Values nested deeper than `maxDepth` are `too_deep` (refused by callers, never skipped).
 */
export function parseJsonText(text: string, maxDepth: number): JsonText {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    if (!PYTHON_ONLY.test(text)) return NOT_JSON;
    try {
      value = JSON.parse(withoutPythonTokens(text));
    } catch {
      return NOT_JSON;
    }
  }
  return depthWithin(value, maxDepth) ? { kind: "value", value } : TOO_DEEP;
}

/** `NaN`, `Infinity` and `-Infinity` outside strings replaced by `null`; strings are left as they are. */
function withoutPythonTokens(text: string): string {
  const out: string[] = [];
  let from = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else {
      const token = text.startsWith("NaN", i)
        ? 3
        : text.startsWith("Infinity", i)
          ? 8
          : text.startsWith("-Infinity", i)
            ? 9
            : 0;
      if (token > 0) {
        out.push(text.slice(from, i), "null");
        i += token - 1;
        from = i + 1;
      }
    }
  }
  out.push(text.slice(from));
  return out.join("");
}

function depthWithin(value: unknown, maxDepth: number): boolean {
  if (value === null || typeof value !== "object") return true;
  const stack: [object, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [node, depth] = stack.pop() as [object, number];
    if (depth > maxDepth) return false;
    for (const v of Array.isArray(node) ? node : Object.values(node)) {
      if (v !== null && typeof v === "object") stack.push([v, depth + 1]);
    }
  }
  return true;
}

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}
