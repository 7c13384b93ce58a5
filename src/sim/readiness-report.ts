import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { readSchema } from "../lib/read-schema.js";
import type { ReadinessResult } from "./readiness.js";

const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
const validate = ajv.compile(readSchema("soak-readiness.schema.json"));

/** Problems with a readiness result against schemas/soak-readiness.schema.json, as lines. */
export function readinessProblems(result: ReadinessResult): string[] {
  if (validate(JSON.parse(JSON.stringify(result)))) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`);
}

/** The readiness file's text: 2-space JSON, keys in the order built, a final newline. */
export function serializeReadiness(result: ReadinessResult): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}
