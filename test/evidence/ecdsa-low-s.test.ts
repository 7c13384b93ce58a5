import assert from "node:assert/strict";
import { sign, verify } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import { rawSign, rawVerify } from "../../src/evidence/dsse.js";
import { isLowS, lowS } from "../../src/evidence/ecdsa-low-s.js";
import { generatedKeyPair, highSTwin } from "./helpers.js";

test("P-256 signatures are made in the low-S form; the high-S twin verifies with node:crypto but is told apart", () => {
  const { privateKey, publicKey } = generatedKeyPair("ecdsa-p256");
  let highSeen = 0;
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (data) => {
      const ours = rawSign(privateKey, data);
      assert.ok(isLowS(ours));
      assert.ok(rawVerify(publicKey, data, ours));
      const twin = highSTwin(ours);
      assert.ok(verify("sha256", data, { key: publicKey, dsaEncoding: "der" }, twin), "a real twin");
      assert.equal(isLowS(twin), false);
      assert.deepEqual(lowS(twin), ours, "lowS gives the low form back");
      // node:crypto's own signatures come out high about half the time: lowS mends those.
      const raw = sign("sha256", data, { key: privateKey, dsaEncoding: "der" });
      if (!isLowS(raw)) highSeen++;
      assert.ok(isLowS(lowS(raw)));
      assert.ok(verify("sha256", data, { key: publicKey, dsaEncoding: "der" }, lowS(raw)));
    }),
    { numRuns: 200 },
  );
  assert.ok(highSeen > 20, `high-S signatures seen: ${highSeen}`);
});

test("what is not a short DER SEQUENCE of two INTEGERs is neither low nor rewritten", () => {
  for (const bad of [
    Buffer.alloc(0),
    Buffer.alloc(64, 1),
    Buffer.from("3006020101020101ff", "hex"),
    Buffer.from("3007020101020201", "hex"),
    Buffer.from("3006020001020101", "hex"),
  ]) {
    assert.equal(isLowS(bad), false, bad.toString("hex"));
    assert.equal(lowS(bad), bad);
  }
  assert.equal(isLowS(Buffer.from("3006020101020101", "hex")), true);
});
