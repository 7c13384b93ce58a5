import type { ErrorObject } from "ajv";
import { AssayError } from "../../lib/errors.js";

/**
 * Where a document being checked sits: the artifact's display path, and the JSON pointer of the
 * document inside the file (`""` for a bare artifact, `/output` inside a recording).
 */
export interface At {
  path: string;
  base: string;
}

/** `path#<pointer>`: a place inside the document at `at` (`pointer` is relative to it). */
export function whereAt(at: At, pointer = ""): string {
  return `${at.path}#${at.base}${pointer}`;
}

/** An artifact that cannot be read, or is not what its kind says. */
export function artifactInvalid(message: string, where: string, cause?: unknown): AssayError {
  return new AssayError("matrix_artifact_invalid", message, {
    where,
    ...(cause === undefined ? {} : { cause }),
  });
}

/** The first error of a failed schema check: its JSON pointer, and ajv's message. */
export function schemaFault(
  errors: readonly ErrorObject[] | null | undefined,
  at: At,
  what: string,
): AssayError {
  const e = errors?.[0];
  let message = e?.message ?? "is invalid";
  // ajv quotes a missing property in '': name it in backticks, as every message does.
  if (e?.keyword === "required")
    message = `must have required property \`${String(e.params.missingProperty)}\``;
  else if (e?.keyword === "additionalProperties") message += ` \`${String(e.params.additionalProperty)}\``;
  else if (e?.keyword === "enum" || e?.keyword === "const")
    message += `: ${JSON.stringify(e.params.allowedValues ?? e.params.allowedValue)}`;
  return artifactInvalid(`not ${what}: ${message}`, whereAt(at, e?.instancePath ?? ""));
}

/** A short description of a JSON value for a message: `an array`, `` `"x"` ``, `` `3` ``. */
export function describeValue(v: unknown): string {
  if (v === null) return "`null`";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "object") return "an object";
  const text = JSON.stringify(v);
  return `\`${text.length > 40 ? `${text.slice(0, 37)}...` : text}\``;
}

/** Whether `v` is a JSON object (not an array, not null). */
export function isJsonObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
