import { readFileSync } from "node:fs";
import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";

// INVARIANT: this module sits two levels below the package root in both src/ and dist/.
const SCHEMA_URL = new URL("../../schemas/policy-pack.schema.json", import.meta.url);

/** The pack schema, read once at module load (the one place policy text meets the file system here). */
export const packSchema: Record<string, unknown> = JSON.parse(readFileSync(SCHEMA_URL, "utf8"));

const ajv = new Ajv2020({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true });
const validatePackShape = ajv.compile(packSchema);

/** Validate a parsed pack document against the pack schema; [] when it conforms. */
export function packSchemaErrors(value: unknown): ErrorObject[] {
  return validatePackShape(value) ? [] : [...(validatePackShape.errors ?? [])];
}
