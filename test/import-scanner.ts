/** What a module imports, read from its text (the architecture and hot-path tests share it). */

export interface Import {
  specifier: string;
  typeOnly: boolean;
}

/** Static imports and re-exports of a module, and whether each is type-only. */
export function importsOf(text: string): Import[] {
  const out: Import[] = [];
  const re =
    /^\s*(import|export)\s+(type\s+)?([^;]*?)\s+from\s+["']([^"']+)["']|^\s*import\s+["']([^"']+)["']/gm;
  for (const m of text.matchAll(re)) {
    if (m[5]) {
      out.push({ specifier: m[5], typeOnly: false });
      continue;
    }
    const clause = m[3] ?? "";
    const names = /^\{([^}]*)\}$/.exec(clause.trim());
    const specifiers = (names?.[1] ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter((s) => s !== "");
    const allInlineTypes = specifiers.length > 0 && specifiers.every((s) => s.startsWith("type "));
    out.push({ specifier: m[4] as string, typeOnly: m[2] !== undefined || allInlineTypes });
  }
  return out;
}

/** `import("…")` with a literal specifier (the CLI loads its actions this way), and `typeof import("…")`. */
export function dynamicImportsOf(text: string): Import[] {
  return [...text.matchAll(/(typeof\s+)?\bimport\(\s*["']([^"']+)["']\s*\)/g)].map((m) => ({
    specifier: m[2] as string,
    typeOnly: m[1] !== undefined,
  }));
}
