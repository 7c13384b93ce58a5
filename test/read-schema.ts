import { readFileSync } from "node:fs";

/** Read one of the JSON Schemas shipped in schemas/ (at module load, never on a decision path). */
export function readSchema(name: string): Record<string, unknown> {
  // Tests read the shipped schemas themselves; the product uses the validators built from them.
  return JSON.parse(readFileSync(new URL(`../schemas/${name}`, import.meta.url), "utf8"));
}
