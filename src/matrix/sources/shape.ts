import { type At, artifactInvalid, describeValue, isJsonObject, whereAt } from "./fault.js";

/**
 * Just enough shape checking for a command's `--json` output that has no schema of its own: each
 * required field's type, so that a file of another kind is refused with the pointer at fault.
 */
export type FieldType = "boolean" | "string" | "array" | "object" | "integer";

const ARTICLE: Record<FieldType, string> = {
  boolean: "a boolean",
  string: "a string",
  array: "an array",
  object: "an object",
  integer: "an integer",
};

function hasType(v: unknown, type: FieldType): boolean {
  switch (type) {
    case "array":
      return Array.isArray(v);
    case "object":
      return isJsonObject(v);
    case "integer":
      return Number.isSafeInteger(v);
    default:
      return typeof v === type;
  }
}

/** `doc` (at `pointer`) as a JSON object, or a fault: `not <what>: expected a JSON object, found an array`. */
export function expectObject(doc: unknown, at: At, what: string, pointer = ""): Record<string, unknown> {
  if (!isJsonObject(doc))
    throw artifactInvalid(
      `not ${what}: ${pointer === "" ? "" : `\`${pointer}\` `}expected a JSON object, found ${describeValue(doc)}`,
      whereAt(at, pointer),
    );
  return doc;
}

/** `obj[key]` (at `pointer`), which must be of `type`. */
export function expectField(
  obj: Record<string, unknown>,
  key: string,
  type: FieldType,
  at: At,
  what: string,
  pointer = `/${key}`,
): unknown {
  const v = obj[key];
  if (!Object.hasOwn(obj, key))
    throw artifactInvalid(`not ${what}: \`${pointer}\` is missing`, whereAt(at, pointer));
  if (!hasType(v, type))
    throw artifactInvalid(
      `not ${what}: \`${pointer}\` must be ${ARTICLE[type]}, found ${describeValue(v)}`,
      whereAt(at, pointer),
    );
  return v;
}

/** `obj[key]` (at `pointer`), which must be one of `values`. */
export function expectOneOf<T extends string>(
  obj: Record<string, unknown>,
  key: string,
  values: readonly T[],
  at: At,
  what: string,
  pointer = `/${key}`,
): T {
  const v = expectField(obj, key, "string", at, what, pointer) as string;
  if (!(values as readonly string[]).includes(v))
    throw artifactInvalid(
      `not ${what}: \`${pointer}\` must be one of ${values.map((x) => `\`${x}\``).join(", ")}, found ${describeValue(v)}`,
      whereAt(at, pointer),
    );
  return v as T;
}
