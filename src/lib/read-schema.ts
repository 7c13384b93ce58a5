import { readFileSync } from "node:fs";

/** Read one of the JSON Schemas shipped in schemas/ (at module load, never on a decision path). */
export function readSchema(name: string): Record<string, unknown> {
  // INVARIANT: this module sits two levels below the package root in both src/ and dist/.
  return JSON.parse(readFileSync(new URL(`../../schemas/${name}`, import.meta.url), "utf8"));
}
