import assert from "node:assert/strict";
import { generateKeyPairSync, sign, verify } from "node:crypto";
import { test } from "node:test";
import fc from "fast-check";
import { rawSign, rawVerify } from "../../src/evidence/dsse.js";
import { isLowS, lowS } from "../../src/evidence/ecdsa-low-s.js";

const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** r and s of a DER signature, read the plain way (for the test's own twin). */
function rs(der: Buffer): { r: bigint; s: bigint } {
  const lr = der[3] as number;
  const r = BigInt(`0x${der.subarray(4, 4 + lr).toString("hex")}`);
  const ls = der[5 + lr] as number;
  const s = BigInt(`0x${der.subarray(6 + lr, 6 + lr + ls).toString("hex")}`);
  return { r, s };
}

function der(r: bigint, s: bigint): Buffer {
  const int = (v: bigint) => {
    let h = v.toString(16);
    if (h.length % 2) h = `0${h}`;
    let b = Buffer.from(h, "hex");
    if ((b[0] as number) >= 0x80) b = Buffer.concat([Buffer.from([0]), b]);
    return Buffer.concat([Buffer.from([2, b.length]), b]);
  };
  const body = Buffer.concat([int(r), int(s)]);
  return Buffer.concat([Buffer.from([0x30, body.length]), body]);
}

test("P-256 signatures are made in the low-S form; the high-S twin verifies with node:crypto but is told apart", () => {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  let highSeen = 0;
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (data) => {
      const ours = rawSign(privateKey, data);
      assert.ok(isLowS(ours));
      assert.ok(rawVerify(publicKey, data, ours));
      const { r, s } = rs(ours);
      const twin = der(r, N - s);
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
