import { schemaValidator } from "../lib/schema-validator.js";
import type { ClaimRow, Disclosures } from "./matrix-doc.js";
import { readCheckedYaml } from "./read-checked-yaml.js";

export interface DisclosuresFile {
  path: string;
  sha256: string;
  written: string[];
}

const validate = schemaValidator<{ written_disclosures: string[] }>("matrix-disclosures");
const MAX_BYTES = 1024 * 1024;

/** Read the disclosures file (`{written_disclosures: [code...]}`, JSON or YAML). */
export async function loadDisclosures(path: string, display: string): Promise<DisclosuresFile> {
  const { value, sha256 } = await readCheckedYaml(path, display, {
    code: "matrix_disclosures_invalid",
    what: "disclosures file",
    maxBytes: MAX_BYTES,
    validate,
  });
  return { path: display, sha256, written: [...value.written_disclosures].sort() };
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
