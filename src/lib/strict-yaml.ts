import { LineCounter, parseDocument } from "yaml";
import { AssayError, type AssayErrorCode } from "./errors.js";
import { yamlPosition } from "./yaml-position.js";

/** A strictly parsed YAML (or JSON) document and a way to point into it. */
export interface StrictYaml {
  readonly value: unknown;
  /** `source:line:col` of the value at JSON-pointer `segments` (as deep as the document goes). */
  at(segments: string[]): string;
}

/**
 * Parse YAML the one way every input file of ours is read: strict, unique keys, at most 100 alias
 * expansions (no billion laughs), every syntax error reported with `code` at its `line:col`.
 */
export function parseStrictYaml(text: string, source: string, code: AssayErrorCode): StrictYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  if (doc.errors.length > 0) {
    throw AssayError.fromDiagnostics(
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return {
          code,
          message: e.message.split("\n")[0] ?? "invalid YAML",
          where: `${source}:${pos.line}:${pos.col}`,
        };
      }),
    );
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    throw new AssayError(code, `invalid YAML: ${(err as Error).message}`, { where: source, cause: err });
  }
  return {
    value,
    at: (segments) => {
      const pos = yamlPosition(doc.contents, segments, lineCounter);
      // An empty document has no node to point at: its problems are at its start.
      return pos ? `${source}:${pos.line}:${pos.col}` : `${source}:1:1`;
    },
  };
}
