/**
 * Tool-name patterns: an exact name, or a glob where `*` matches any run of characters.
 * Every star is a wildcard wherever it stands (`fs_*_write` matches `fs_tmp_write`).
 */
export type ToolPattern =
  | { readonly kind: "any"; readonly source: string }
  | { readonly kind: "exact"; readonly source: string }
  | { readonly kind: "glob"; readonly source: string; readonly parts: readonly string[] };

/** Split a pattern once, at compile time, into the literal parts between its stars. */
export function parseToolPattern(source: string): ToolPattern {
  if (!source.includes("*")) return { kind: "exact", source };
  const parts = source.split("*");
  if (parts.every((p) => p === "")) return { kind: "any", source };
  return { kind: "glob", source, parts };
}

/** Does `name` match the pattern? Linear in the name's length for any pattern. */
export function matchToolPattern(pattern: ToolPattern, name: string): boolean {
  switch (pattern.kind) {
    case "any":
      return true;
    case "exact":
      return pattern.source === name;
    case "glob":
      return matchGlobParts(pattern.parts, name);
  }
}

function matchGlobParts(parts: readonly string[], name: string): boolean {
  const first = parts[0] ?? "";
  const last = parts[parts.length - 1] ?? "";
  if (name.length < first.length + last.length) return false;
  if (!name.startsWith(first) || !name.endsWith(last)) return false;
  // Greedy leftmost placement of the middle parts is optimal for `*`-only globs.
  let at = first.length;
  const end = name.length - last.length;
  for (let i = 1; i < parts.length - 1; i++) {
    const part = parts[i] ?? "";
    if (part === "") continue;
    const found = name.indexOf(part, at);
    if (found < 0 || found + part.length > end) return false;
    at = found + part.length;
  }
  return true;
}

/** Does any of the patterns match `name`? */
export function matchAnyToolPattern(patterns: readonly ToolPattern[], name: string): ToolPattern | undefined {
  for (const p of patterns) if (matchToolPattern(p, name)) return p;
  return undefined;
}

const CAMEL_BOUNDARY = /([a-z0-9])([A-Z])/g;
const SEPARATORS = /[-.\s]/g;

/**
 * A tool name in one spelling: `runCommand`, `Run-Command` and `run.command` all become
 * `run_command`. Deny lists also match folded names, so a renamed spelling cannot slip past them.
 */
export function foldToolName(name: string): string {
  return name.replace(CAMEL_BOUNDARY, "$1_$2").toLowerCase().replace(SEPARATORS, "_");
}
