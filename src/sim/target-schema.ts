import { Ajv2020, type ErrorObject } from "ajv/dist/2020.js";
import { readSchema } from "../lib/read-schema.js";

export const targetSchema = readSchema("assay-target.schema.json");

// `verbose` gives each error its `parentSchema`, which the "did you mean" hint for unknown keys reads;
// `discriminator` makes a driver's errors come from the branch its `kind` names, not from all three.
const ajv = new Ajv2020({
  allErrors: true,
  verbose: true,
  strict: true,
  strictRequired: false,
  allowUnionTypes: true,
  discriminator: true,
});
const validateTargetShape = ajv.compile(targetSchema);

/** Validate a parsed `assay-target.yaml` against its schema; [] when it conforms. */
export function targetSchemaErrors(value: unknown): ErrorObject[] {
  return validateTargetShape(value) ? [] : [...(validateTargetShape.errors ?? [])];
}
