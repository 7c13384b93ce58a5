import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";

const FIXTURES = new URL("fixtures/", import.meta.url);

/**
 * `actual` must be byte for byte the text stored in test/fixtures/`path`: determinism checked
 * against what an earlier run wrote, not against a second call in the same process. With
 * ASSAY_UPDATE_FIXTURES=1 the file is rewritten instead, for a change made on purpose (review
 * the diff, and note it in CHANGELOG.md when users hold such bytes).
 */
export function assertStoredText(path: string, actual: string): void {
  const file = fileURLToPath(new URL(path, FIXTURES));
  if (process.env.ASSAY_UPDATE_FIXTURES === "1") {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, actual);
    return;
  }
  const stored = readFileSync(file, "utf8");
  assert.ok(
    actual === stored,
    `differs from test/fixtures/${path} at offset ${firstDifference(actual, stored)} (ASSAY_UPDATE_FIXTURES=1 stores the new text, if the change is deliberate)`,
  );
}

function firstDifference(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}
