import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import { readSchema } from "../lib/read-schema.js";

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
