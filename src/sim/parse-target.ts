import type { ErrorObject } from "ajv";
import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { AssayError, type Diagnostic } from "../lib/errors.js";
import { pointerSegments, pointerToPath, toPointer } from "../policy/json-pointer.js";
import { closest } from "../policy/suggest.js";
import { targetSchemaErrors } from "./target-schema.js";
import type { TargetDoc } from "./target-types.js";

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
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true, strict: true });
  if (doc.errors.length > 0) {
    throw AssayError.fromDiagnostics(
      doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return {
          code: "bundle_syntax",
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
    throw new AssayError("bundle_syntax", `invalid YAML: ${(err as Error).message}`, {
      where: source,
      cause: err,
    });
  }
  const locate = (pointer: string): string => {
    const pos = positionOf(doc.contents, pointerSegments(pointer), lineCounter);
    return pos ? `${source}:${pos.line}:${pos.col}` : `${source}:1:1`;
  };
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

// The same walk as src/policy/load-pack.ts (not exported there): the key is where a person looks.
function positionOf(
  root: unknown,
  segments: string[],
  lc: LineCounter,
): { line: number; col: number } | undefined {
  let node = root as Node | null | undefined;
  let last = node;
  for (const seg of segments) {
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === seg);
      if (!pair) break;
      node = pair.value as Node | null;
      last = (node && !((isMap(node) || isSeq(node)) && !node.flow) ? node : pair.key) as Node;
      if (!node) break;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)];
      if (!item) break;
      node = item as Node;
      last = node;
    } else break;
  }
  const range = (last as Node | undefined)?.range;
  return range ? lc.linePos(range[0]) : undefined;
}

function schemaDiagnostics(errors: ErrorObject[], locate: (p: string) => string): Diagnostic[] {
  const seen = new Set<string>();
  const out: Diagnostic[] = [];
  for (const e of errors) {
    // `if` only says its `then` failed, and `discriminator` restates `kind`'s enum: the others say why.
    if (e.keyword === "if" || e.keyword === "discriminator") continue;
    let pointer = e.instancePath;
    let message: string;
    switch (e.keyword) {
      case "additionalProperties": {
        const key = String((e.params as { additionalProperty: string }).additionalProperty);
        pointer = `${pointer}/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
        const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
        const hint = closest(key, known);
        message = `unknown key \`${key}\`${hint ? `; did you mean \`${hint}\`?` : ""}`;
        break;
      }
      case "required": {
        const key = (e.params as { missingProperty: string }).missingProperty;
        message = `missing required key \`${key}\`${requiredHint(e.instancePath, key)}`;
        break;
      }
      case "enum":
        message = `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => `\`${v}\``).join(", ")}`;
        break;
      default:
        message = e.message ?? "invalid";
    }
    const line = `${pointerToPath(pointer)}: ${message}`;
    if (seen.has(line)) continue;
    seen.add(line);
    out.push({ code: "bundle_schema", message: line, where: locate(pointer) });
  }
  return out;
}

/** Why a key that is only sometimes required is required here. */
function requiredHint(pointer: string, key: string): string {
  if (key === "script" && /^\/scenarios\/\d+$/.test(pointer)) return " (the scripted driver runs it)";
  if (key === "rules" && /^\/canaries\/\d+$/.test(pointer))
    return " (a flagged canary names the rules that must fire)";
  return "";
}
