import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { ValidateFunction } from "ajv/dist/2020.js";
import { AssayError, type Diagnostic, type MatrixCode } from "../lib/errors.js";
import { parseStrictYaml, type StrictYaml } from "../lib/strict-yaml.js";
import { pointerSegments, pointerToPath } from "../policy/json-pointer.js";
import { schemaErrorText } from "../policy/schema-error-text.js";

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
  const { validate } = opts;
  if (!validate(parsed.value)) {
    const seen = new Set<string>();
    const out: Diagnostic[] = [];
    for (const e of validate.errors ?? []) {
      const { pointer, message } = schemaErrorText(e);
      const line = `${pointerToPath(pointer) || opts.what}: ${message}`;
      if (seen.has(line)) continue;
      seen.add(line);
      out.push({ code: opts.code, message: line, where: parsed.at(pointerSegments(pointer)) });
    }
    throw AssayError.fromDiagnostics(out);
  }
  return { value: parsed.value, parsed };
}
