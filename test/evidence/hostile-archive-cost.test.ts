import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { crc32, deflateRawSync } from "node:zlib";
import { GZIP_HEADER } from "../../src/evidence/canonical-gzip.js";
import { verifyBundle } from "../../src/evidence/verify-bundle.js";
import { suiteTempDir } from "../temp-dir.js";
import { save } from "./craft.js";

// Issue 5 §2: a gzip bomb "fails in milliseconds" with bounded memory. How long it takes and the
// peak RSS are benchmark figures (bench:evidence, `hostile_*`); what a test can pin without a
// clock is how much the verifier inflated before it refused: a small, fixed amount, whatever the
// bomb's declared size. The bomb's members are valid gzip (right CRC and size), so nothing but
// a limit stops it.
const MAX_INFLATED_BEFORE_REFUSAL = 4 * 2 ** 20;

const dir = suiteTempDir("assay-evidence-");

function bomb(members: number): Buffer {
  const zeros = Buffer.alloc(64 * 2 ** 20);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(zeros), 0);
  trailer.writeUInt32LE(zeros.length, 4);
  const one = Buffer.concat([GZIP_HEADER, deflateRawSync(zeros), trailer]);
  return Buffer.concat(Array.from({ length: members }, () => one));
}

describe("a gzip bomb is refused after a small, fixed amount of inflating", () => {
  for (const [members, label] of [
    [16, "1 GiB"],
    [160, "10 GiB"],
  ] as const) {
    test(`${label} of zeros in valid gzip members: limit_compression_ratio within ${MAX_INFLATED_BEFORE_REFUSAL} bytes`, async () => {
      const r = await verifyBundle(save(dir, `bomb-${members}.tar.gz`, bomb(members)));
      assert.equal(r.valid, false);
      if (r.valid) return;
      assert.equal(r.failure.code, "limit_compression_ratio");
      const inflated = Number(/\((\d+) bytes from \d+\)/.exec(r.failure.message)?.[1]);
      assert.ok(inflated > 0 && inflated <= MAX_INFLATED_BEFORE_REFUSAL, r.failure.message);
    });
  }
});
