import type { ErrorObject } from "ajv";
import type { AssayErrorCode, Diagnostic } from "../lib/errors.js";
import { pointerToPath } from "./json-pointer.js";
import { schemaErrorText } from "./schema-error-text.js";

/**
 * A file's JSON Schema errors as diagnostics: `path: message` at `locate(pointer)`, each line
 * once, without `if` errors (they only say that their `then` failed; the `then` error says why).
 * `root` names the document when the fault is at its top (an empty path).
 */
export function schemaErrorDiagnostics(
  errors: readonly ErrorObject[] | null | undefined,
  code: AssayErrorCode,
  locate: (pointer: string) => string,
  root = "",
): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const e of errors ?? []) {
    if (e.keyword === "if") continue;
    const { pointer, message } = schemaErrorText(e);
    const line = `${pointerToPath(pointer) || root}: ${message}`;
    if (seen.has(line)) continue;
    seen.add(line);
    out.push({ code, message: line, where: locate(pointer) });
  }
  return out;
}
