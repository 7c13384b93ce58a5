import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { ValidateFunction } from "ajv/dist/2020.js";
import { AssayError, type MatrixCode } from "../lib/errors.js";
import { parseStrictYaml, type StrictYaml } from "../lib/strict-yaml.js";
import { pointerSegments } from "../policy/json-pointer.js";
import { schemaErrorDiagnostics } from "../policy/schema-diagnostics.js";

/**
 * A YAML or JSON input of the matrix (the registry, the disclosures file): read within `maxBytes`,
 * parsed strictly and checked against its generated validator. Every problem is `code` at its
 * `file:line:col`; `what` names the file in messages.
 */
export async function readCheckedYaml<T>(
  path: string,
  display: string,
  opts: { code: MatrixCode; what: string; maxBytes: number; validate: ValidateFunction<T> },
): Promise<{ value: T; parsed: StrictYaml; sha256: string }> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new AssayError(
      opts.code,
      `cannot read the ${opts.what}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      {
        where: display,
        cause: err,
      },
    );
  }
  if (bytes.length > opts.maxBytes) {
    throw new AssayError(opts.code, `the ${opts.what} is over ${opts.maxBytes} bytes`, { where: display });
  }
  const sha256 = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
  return { ...checkYaml(bytes.toString("utf8"), display, opts), sha256 };
}

/** Parse and check YAML text, as readCheckedYaml does after reading. */
export function checkYaml<T>(
  text: string,
  display: string,
  opts: { code: MatrixCode; what: string; validate: ValidateFunction<T> },
): { value: T; parsed: StrictYaml } {
  const parsed = parseStrictYaml(text, display, opts.code);
  if (!opts.validate(parsed.value)) {
    const locate = (pointer: string) => parsed.at(pointerSegments(pointer));
    throw AssayError.fromDiagnostics(
      schemaErrorDiagnostics(opts.validate.errors, opts.code, locate, opts.what),
    );
  }
  return { value: parsed.value, parsed };
}
