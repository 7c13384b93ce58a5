import type { ErrorObject } from "ajv";
import { schemaValidator } from "../lib/schema-validator.js";
import type { ValidatorName } from "../lib/validator-specs.js";
import { schemaErrorText } from "../policy/schema-error-text.js";
import { HttpError } from "./http-error.js";

/**
 * Check a request body against its schema (a validator generated at build time: nothing compiles
 * per request) and return it typed, or throw 400 naming the JSON pointer of the first fault.
 */
export function checkBody<T>(name: ValidatorName, body: unknown): T {
  const validate = schemaValidator<T>(name);
  if (validate(body)) return body;
  const e = pickError(validate.errors ?? []);
  const { pointer, message } = e ? schemaErrorText(e) : { pointer: "", message: "invalid body" };
  throw new HttpError(400, "body_invalid", `${pointer || "/"}: ${message}`, { pointer });
}

/**
 * The most useful error: a `oneOf` failure only says "must match exactly one schema", so prefer an
 * error below it, and the deepest one when there are several.
 */
function pickError(errors: readonly ErrorObject[]): ErrorObject | undefined {
  const specific = errors.filter((e) => e.keyword !== "oneOf" && e.keyword !== "anyOf");
  const pool = specific.length > 0 ? specific : errors;
  return [...pool].sort((a, b) => b.instancePath.length - a.instancePath.length)[0];
}
