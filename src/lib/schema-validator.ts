import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import type { ValidateFunction } from "ajv/dist/2020.js";
import { AssayError } from "./errors.js";
import type { ValidatorName } from "./validator-specs.js";

const requireValidator = createRequire(import.meta.url);
const loaded = new Map<ValidatorName, ValidateFunction>();

/**
 * The validator generated at build time for one shipped schema (see validator-specs.ts), loaded
 * on first use. Loading runs ajv's standalone code, which compiles nothing.
 */
export function schemaValidator<T = unknown>(name: ValidatorName): ValidateFunction<T> {
  let v = loaded.get(name);
  if (v === undefined) {
    // INVARIANT: this module sits two levels below the package root in both src/ and dist/.
    const file = new URL(`../../dist/validators/${name}.cjs`, import.meta.url);
    try {
      v = requireValidator(fileURLToPath(file)) as ValidateFunction;
    } catch (err) {
      // Only the validator's own file missing means a build is missing (not a module it requires).
      if ((err as NodeJS.ErrnoException).code !== "MODULE_NOT_FOUND" || existsSync(file)) throw err;
      throw new AssayError(
        "internal",
        `the generated schema validator \`${name}\` is missing; run \`npm run build\` (npm ci does it for you)`,
      );
    }
    loaded.set(name, v);
  }
  return v as ValidateFunction<T>;
}

/** The first problem of `value` against the shipped schema `name` (`<pointer>: <message>`), or none. */
export function schemaProblem(name: ValidatorName, value: unknown): string | undefined {
  const validate = schemaValidator(name);
  if (validate(value)) return undefined;
  const e = validate.errors?.[0];
  return `${e?.instancePath || "/"}: ${e?.message ?? "invalid"}`;
}

/**
 * Refuse to write `value` (described as `what`) when it does not match its schema: every JSON
 * artifact is checked before it is written, and one that fails is Assay's own fault (exit 2).
 */
export function assertWritable(name: ValidatorName, value: unknown, what: string): void {
  const problem = schemaProblem(name, value);
  if (problem !== undefined)
    throw new AssayError(
      "internal",
      `${what} does not match the ${name} schema, so it was not written: ${problem}`,
    );
}
