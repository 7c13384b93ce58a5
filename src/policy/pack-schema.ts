import type { ErrorObject } from "ajv/dist/2020.js";
import { schemaValidator } from "../lib/schema-validator.js";

// Built with `verbose`: each error has its `parentSchema`, which the "did you mean" hint reads.
const validatePackShape = schemaValidator("policy-pack");

/** Validate a parsed pack document against the pack schema; [] when it conforms. */
export function packSchemaErrors(value: unknown): ErrorObject[] {
  return validatePackShape(value) ? [] : [...(validatePackShape.errors ?? [])];
}
