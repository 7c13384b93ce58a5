import type { ErrorObject } from "ajv/dist/2020.js";
import { schemaValidator } from "../../lib/schema-validator.js";

// Built with `verbose` (each error has its `parentSchema`, read by the "did you mean" hint) and
// `discriminator` (a driver's errors come from the branch its `kind` names, not from all three).
const validateTargetShape = schemaValidator("assay-target");

/** Validate a parsed `assay-target.yaml` against its schema; [] when it conforms. */
export function targetSchemaErrors(value: unknown): ErrorObject[] {
  return validateTargetShape(value) ? [] : [...(validateTargetShape.errors ?? [])];
}
