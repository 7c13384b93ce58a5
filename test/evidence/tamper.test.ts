import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import fc from "fast-check";
import { writeBundle } from "../../src/evidence/bundle-writer.js";
import { verifyBundle } from "../../src/evidence/verify-bundle.js";
import { suiteTempDir } from "../temp-dir.js";
import { writeDecisionLog } from "./helpers.js";

const dir = suiteTempDir("assay-evidence-");

/**
 * A changed byte must fail verification, with exceptions that cannot change anything the
 * verifier reads: gzip's XFL and OS header bytes (informational, ignored by every inflater,
 * different between writers), gzip's mtime (reported as a `gzip_header_noncanonical` warning),
 * and unused padding bits of the last deflate byte. For those, the decompressed tar must be
 * byte-identical; the signature over the whole file (an attestation subject digest) is what
 * pins them.
 */
async function check(original: Buffer, pos: number, value: number): Promise<"detected" | "inert"> {
  const mutated = Buffer.from(original);
  mutated[pos] = value;
  const path = join(dir, "m.tar.gz");
  writeFileSync(path, mutated);
  const r = await verifyBundle(path);
  if (!r.valid) return "detected";
  if (pos >= 4 && pos <= 7)
    assert.deepEqual(
      r.warnings.map((w) => w.code),
      ["gzip_header_noncanonical"],
      `byte ${pos} (gzip mtime) → ${value} went unreported`,
    );
  let same = false;
  try {
    same = gunzipSync(mutated).equals(gunzipSync(original));
  } catch {}
  assert.ok(pos === 8 || pos === 9 || same, `byte ${pos} → ${value} went undetected and changed the content`);
  return "inert";
}

describe("every single-byte change to a bundle is detected", () => {
  let original: Buffer;

  test("setup: a small valid bundle", async () => {
    const out = join(dir, "small.tar.gz");
    await writeBundle({ events: writeDecisionLog(dir, 2), out });
    original = readFileSync(out);
    assert.ok((await verifyBundle(out)).valid);
  });

  test("exhaustively: every position, every bit flipped at once", async () => {
    const inert: number[] = [];
    for (let pos = 0; pos < original.length; pos++)
      if ((await check(original, pos, (original[pos] ?? 0) ^ 0xff)) === "inert") inert.push(pos);
    // Only mtime (with a warning), XFL and OS can be inert when all eight bits change.
    assert.ok(
      inert.every((p) => p >= 4 && p <= 9),
      `inert positions: ${inert.join(",")}`,
    );
  });

  test("property: any position, any new value", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat({ max: original.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        async (pos, delta) => {
          await check(original, pos, ((original[pos] ?? 0) + delta) & 0xff);
        },
      ),
      { numRuns: 600 },
    );
  });
});
