import { schemaValidator } from "../../lib/schema-validator.js";
import type { ReadinessResult } from "./result.js";

const validate = schemaValidator("soak-readiness");

/** Problems with a readiness result against schemas/soak-readiness.schema.json, as lines. */
export function readinessProblems(result: ReadinessResult): string[] {
  if (validate(JSON.parse(JSON.stringify(result)))) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`);
}

/** The readiness file's text: 2-space JSON, keys in the order built, a final newline. */
export function serializeReadiness(result: ReadinessResult): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}
