import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { AssayError, type Diagnostic } from "../lib/errors.js";
import { schemaValidator } from "../lib/schema-validator.js";
import { parseStrictYaml } from "../lib/strict-yaml.js";
import { pointerSegments, pointerToPath } from "../policy/json-pointer.js";
import { schemaErrorText } from "../policy/schema-error-text.js";
import type { ClaimRow, Disclosures } from "./matrix-doc.js";

export interface DisclosuresFile {
  path: string;
  sha256: string;
  written: string[];
}

const validate = schemaValidator<{ written_disclosures: string[] }>("matrix-disclosures");
const MAX_BYTES = 1024 * 1024;

/** Read the disclosures file (`{written_disclosures: [code...]}`, JSON or YAML). */
export async function loadDisclosures(path: string, display: string): Promise<DisclosuresFile> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new AssayError(
      "matrix_disclosures_invalid",
      `cannot read the disclosures file: ${(err as NodeJS.ErrnoException).code ?? err}`,
      { where: display, cause: err },
    );
  }
  if (bytes.length > MAX_BYTES) {
    throw new AssayError("matrix_disclosures_invalid", `the disclosures file is over ${MAX_BYTES} bytes`, {
      where: display,
    });
  }
  const parsed = parseStrictYaml(bytes.toString("utf8"), display, "matrix_disclosures_invalid");
  if (!validate(parsed.value)) {
    const out: Diagnostic[] = (validate.errors ?? []).map((e) => {
      const { pointer, message } = schemaErrorText(e);
      return {
        code: "matrix_disclosures_invalid",
        message: `${pointerToPath(pointer) || "disclosures"}: ${message}`,
        where: parsed.at(pointerSegments(pointer)),
      };
    });
    throw AssayError.fromDiagnostics(out);
  }
  return {
    path: display,
    sha256: `sha256:${createHash("sha256").update(bytes).digest("hex")}`,
    written: [...parsed.value.written_disclosures].sort(),
  };
}

/** Which BETA claims need a written disclosure, and which of those the file lacks. */
export function disclosureStatus(rows: readonly ClaimRow[], file: DisclosuresFile | null): Disclosures {
  const written = new Set(file?.written ?? []);
  const required = rows
    .filter((r) => r.state === "BETA")
    .map((r) => ({ claim: r.id, code: r.disclosure ?? "" }));
  return {
    file: file?.path ?? null,
    required,
    written: file?.written ?? [],
    missing: required.filter((r) => r.code === "" || !written.has(r.code)),
  };
}
