import type { ErrorObject } from "ajv";
import { AssayError, type Diagnostic } from "../lib/errors.js";
import { parseStrictYaml } from "../lib/strict-yaml.js";
import { pointerSegments, pointerToPath } from "./json-pointer.js";
import { packSchemaErrors } from "./pack-schema.js";
import type { PackDoc } from "./pack-types.js";
import { MAX_PACK_BYTES, readPackText } from "./read-pack.js";
import { schemaErrorText } from "./schema-error-text.js";

export { MAX_PACK_BYTES };

/** A pack that passed the schema, with a way to turn a JSON pointer into `file:line:col`. */
export interface LoadedPack {
  readonly source: string;
  readonly doc: PackDoc;
  locate(pointer: string): string;
}

/** Read, parse and schema-check a pack file (YAML or JSON). Throws an AssayError listing every problem. */
export async function loadPack(path: string): Promise<LoadedPack> {
  return parsePack(await readPackText(path), path);
}

/** Parse and schema-check pack text. `source` names it in error locations. */
export function parsePack(text: string, source: string): LoadedPack {
  if (Buffer.byteLength(text, "utf8") > MAX_PACK_BYTES) {
    throw new AssayError("pack_too_large", `pack is over the ${MAX_PACK_BYTES} byte limit`, {
      where: source,
    });
  }
  const { value, at } = parseStrictYaml(text, source, "pack_syntax");
  const locate = (pointer: string): string => at(pointerSegments(pointer));
  const errors = packSchemaErrors(value);
  if (errors.length > 0) {
    throw AssayError.fromDiagnostics(schemaDiagnostics(errors, locate));
  }
  return Object.freeze({ source, doc: value as PackDoc, locate });
}

/** Schema-check a pack given as a plain object (no positions: locations are JSON pointers). */
export function packFromObject(value: unknown, source = "<pack>"): LoadedPack {
  const locate = (pointer: string) => `${source}#${pointer}`;
  const errors = packSchemaErrors(value);
  if (errors.length > 0) throw AssayError.fromDiagnostics(schemaDiagnostics(errors, locate));
  return Object.freeze({ source, doc: structuredClone(value) as PackDoc, locate });
}

const RULE_KINDS = "tools, args, expr, network, sequence, limit";

function schemaDiagnostics(errors: ErrorObject[], locate: (p: string) => string): Diagnostic[] {
  // Errors inside the branches of a failed oneOf/anyOf only restate it; keep the summary.
  const branchFailures = new Set(
    errors.filter((e) => e.keyword === "oneOf" || e.keyword === "anyOf").map((e) => e.schemaPath),
  );
  const kept = errors.filter((e) => {
    for (const sp of branchFailures) if (e.schemaPath.startsWith(`${sp}/`)) return false;
    return true;
  });
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const e of kept) {
    let { pointer, message } = schemaErrorText(e);
    // schemaPath is relative to the `$ref`ed definition (`#/oneOf`): tell them apart by where they are.
    if (e.keyword === "oneOf" && /^\/rules\/\d+$/.test(e.instancePath)) {
      message = `a rule needs exactly one check kind (${RULE_KINDS})`;
    } else if (e.keyword === "anyOf" && /^\/rules\/\d+\/network$/.test(e.instancePath)) {
      message = "a network check needs at least one of allow_/deny_ cidrs, hosts, ports or allow_schemes";
    }
    const line = `${pointerToPath(pointer)}: ${message}`;
    if (seen.has(`${pointer}\0${line}`)) continue;
    seen.add(`${pointer}\0${line}`);
    out.push({ code: "pack_schema", message: line, where: locate(pointer) });
  }
  return out;
}
