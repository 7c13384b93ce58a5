import type { ErrorObject } from "ajv";
import { escapeSegment } from "./json-pointer.js";
import { closest } from "./suggest.js";

/**
 * The words for one JSON Schema error that every loader shares: an unknown key (pointing at the
 * key itself, with a did-you-mean), a missing key, an enum. Callers add their own special cases.
 */
export function schemaErrorText(e: ErrorObject): { pointer: string; message: string } {
  switch (e.keyword) {
    case "additionalProperties": {
      const key = String((e.params as { additionalProperty: string }).additionalProperty);
      const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
      const hint = closest(key, known);
      return {
        pointer: `${e.instancePath}/${escapeSegment(key)}`,
        message: `unknown key \`${key}\`${hint ? `; did you mean \`${hint}\`?` : ""}`,
      };
    }
    case "required":
      return {
        pointer: e.instancePath,
        message: `missing required key \`${(e.params as { missingProperty: string }).missingProperty}\``,
      };
    case "enum":
      return {
        pointer: e.instancePath,
        message: `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.map((v) => `\`${v}\``).join(", ")}`,
      };
    default:
      return { pointer: e.instancePath, message: e.message ?? "invalid" };
  }
}
