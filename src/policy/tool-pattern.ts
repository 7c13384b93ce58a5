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

/**
 * Letters of other scripts that look like Latin ones, lowercase (names are lowercased first):
 * Cyrillic and Greek homoglyphs, enough that `bаsh` with a Cyrillic `а` is still `bash`.
 */
export const LOOKALIKES: Readonly<Record<string, string>> = {
  а: "a",
  в: "b",
  е: "e",
  ё: "e",
  з: "3",
  і: "i",
  ї: "i",
  ј: "j",
  к: "k",
  м: "m",
  н: "h",
  о: "o",
  р: "p",
  с: "c",
  т: "t",
  у: "y",
  х: "x",
  ѕ: "s",
  һ: "h",
  ԁ: "d",
  ԛ: "q",
  ԝ: "w",
  ɡ: "g",
  α: "a",
  β: "b",
  ε: "e",
  ζ: "z",
  η: "n",
  ι: "i",
  κ: "k",
  μ: "m",
  ν: "v",
  ο: "o",
  ρ: "p",
  τ: "t",
  υ: "u",
  χ: "x",
};
// Every key of LOOKALIKES (a test checks they agree).
export const LOOKALIKE = /[авеёзіїјкмнорстухѕһԁԛԝɡαβεζηικμνορτυχ]/g;
/** Invisible format characters (zero-width space and joiners, bidi marks). */
const INVISIBLE = /\p{Cf}/gu;
const CAMEL_BOUNDARY = /([a-z0-9])([A-Z])/g;
const SEPARATORS = /[-.\s]+/g;

/**
 * A tool name or deny pattern in one spelling: compatibility forms unified (NFKC: fullwidth
 * `ｂａｓｈ` is `bash`), invisible characters dropped and whitespace trimmed, camelCase boundaries
 * turned into `_`, lowercased, lookalike letters of other scripts mapped to Latin (`bаsh` with a
 * Cyrillic `а`), and `-`, `.` and inner whitespace turned into `_`. `runCommand`, `Run-Command` and
 * `run.command` all become `run_command`. `*` survives, so patterns fold the same way.
 */
export function foldToolName(name: string): string {
  return fold(unify(name).replace(CAMEL_BOUNDARY, "$1_$2"));
}

/**
 * Every folded spelling deny lists compare a tool name in: `foldToolName`, and the same without
 * camelCase splitting, so that `BaSh` is `bash` while `runCommand` is still `run_command`.
 */
export function foldedSpellings(name: string): readonly string[] {
  const unified = unify(name);
  const split = fold(unified.replace(CAMEL_BOUNDARY, "$1_$2"));
  const flat = fold(unified);
  return split === flat ? [split] : [split, flat];
}

/** The first pattern that matches any of the spellings. */
export function matchAnyFolded(
  patterns: readonly ToolPattern[],
  spellings: readonly string[],
): ToolPattern | undefined {
  for (const s of spellings) {
    const p = matchAnyToolPattern(patterns, s);
    if (p) return p;
  }
  return undefined;
}

function unify(name: string): string {
  return name.normalize("NFKC").replace(INVISIBLE, "").trim();
}

function fold(name: string): string {
  return name
    .toLowerCase()
    .replace(LOOKALIKE, (c) => LOOKALIKES[c] as string)
    .replace(SEPARATORS, "_");
}
