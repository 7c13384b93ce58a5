import { readFileSync } from "node:fs";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";

/** Read one of the JSON Schemas shipped in schemas/ (at module load, never on a decision path). */
export function readSchema(name: string): Record<string, unknown> {
  // INVARIANT: this module sits two levels below the package root in both src/ and dist/.
  return JSON.parse(readFileSync(new URL(`../../schemas/${name}`, import.meta.url), "utf8"));
}

export const packSchema = readSchema("policy-pack.schema.json");

// `verbose` gives each error its `parentSchema`, which the "did you mean" hint for unknown keys reads.
const ajv = new Ajv2020({
  allErrors: true,
  verbose: true,
  strict: true,
  strictRequired: false,
  allowUnionTypes: true,
});
const validatePackShape = ajv.compile(packSchema);

/** Validate a parsed pack document against the pack schema; [] when it conforms. */
export function packSchemaErrors(value: unknown): ErrorObject[] {
  return validatePackShape(value) ? [] : [...(validatePackShape.errors ?? [])];
}
