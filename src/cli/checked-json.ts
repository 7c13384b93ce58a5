import { assertWritable } from "../lib/schema-validator.js";
import type { ValidatorName } from "../lib/validator-specs.js";

/**
 * `printJson` for output that has a schema: checked first, as every artifact is before it is
 * written. Its own module, so that commands without such output do not load the validators' loader.
 */
export function printCheckedJson(name: ValidatorName, value: unknown, what: string): void {
  const text = `${JSON.stringify(value, null, 2)}\n`;
  assertWritable(name, JSON.parse(text), what);
  process.stdout.write(text);
}
