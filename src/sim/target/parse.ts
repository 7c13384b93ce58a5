import type { ErrorObject } from "ajv";
import { AssayError, type Diagnostic } from "../../lib/errors.js";
import { parseStrictYaml } from "../../lib/strict-yaml.js";
import { pointerSegments, pointerToPath, toPointer } from "../../policy/json-pointer.js";
import { schemaErrorText } from "../../policy/schema-error-text.js";
import { targetSchemaErrors } from "./schema.js";
import type { TargetDoc } from "./types.js";

/** Target files larger than this are refused before they are parsed. */
export const MAX_TARGET_BYTES = 10 * 1024 * 1024;

/** An `assay-target.yaml` that passed the schema, with a way to turn a JSON pointer into `file:line:col`. */
export interface ParsedTarget {
  readonly source: string;
  readonly doc: TargetDoc;
  locate(pointer: string): string;
}

/**
 * Parse and schema-check the text of `assay-target.yaml` (YAML, or JSON, which is YAML), the way
 * parsePack reads a pack: strict YAML, unique keys, bounded aliases, every problem at its position.
 */
export function parseTarget(text: string, source: string): ParsedTarget {
  if (Buffer.byteLength(text, "utf8") > MAX_TARGET_BYTES) {
    throw new AssayError("bundle_too_large", `target file is over the ${MAX_TARGET_BYTES} byte limit`, {
      where: source,
    });
  }
  const { value, at } = parseStrictYaml(text, source, "bundle_syntax");
  const locate = (pointer: string): string => at(pointerSegments(pointer));
  const nonJson = nonFiniteNumbers(value).map((pointer) => ({
    code: "bundle_schema" as const,
    message: `${pointerToPath(pointer)}: \`.nan\` and \`.inf\` are not JSON numbers`,
    where: locate(pointer),
  }));
  if (nonJson.length > 0) throw AssayError.fromDiagnostics(nonJson);
  const errors = targetSchemaErrors(value);
  if (errors.length > 0) throw AssayError.fromDiagnostics(schemaDiagnostics(errors, locate));
  return Object.freeze({ source, doc: value as TargetDoc, locate });
}

/**
 * JSON pointers of every NaN or infinity in a parsed document. YAML has them and JSON does not;
 * the schema's bounds cannot catch NaN (every comparison with it is false), and a target is hashed
 * and reported as JSON.
 */
function nonFiniteNumbers(root: unknown): string[] {
  const out: string[] = [];
  const stack: [unknown, (string | number)[]][] = [[root, []]];
  while (stack.length > 0) {
    const [value, path] = stack.pop() as [unknown, (string | number)[]];
    if (typeof value === "number" && !Number.isFinite(value)) out.push(toPointer(path));
    else if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) stack.push([v, [...path, i]]);
    } else if (value && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) stack.push([v, [...path, k]]);
    }
  }
  return out.sort();
}

function schemaDiagnostics(errors: ErrorObject[], locate: (p: string) => string): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const e of errors) {
    // `if` only says its `then` failed, and `discriminator` restates `kind`'s enum: the others say why.
    if (e.keyword === "if" || e.keyword === "discriminator") continue;
    const { pointer, message: text } = schemaErrorText(e);
    const message = e.keyword === "required" ? `${text}${requiredHint(pointer, requiredKey(e))}` : text;
    const line = `${pointerToPath(pointer)}: ${message}`;
    if (seen.has(line)) continue;
    seen.add(line);
    out.push({ code: "bundle_schema", message: line, where: locate(pointer) });
  }
  return out;
}

function requiredKey(e: ErrorObject): string {
  return (e.params as { missingProperty: string }).missingProperty;
}

/** Why a key that is only sometimes required is required here. */
function requiredHint(pointer: string, key: string): string {
  if (key === "script" && /^\/scenarios\/\d+$/.test(pointer)) return " (the scripted driver runs it)";
  if (key === "rules" && /^\/canaries\/\d+$/.test(pointer))
    return " (a flagged canary names the rules that must fire)";
  return "";
}
