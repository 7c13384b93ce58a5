import assert from "node:assert/strict";
import { createHash, verify } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { KIT, SOAK_RESULT_V1 } from "../../src/audit-kit/manifest.js";
import { verifyAuditKit } from "../../src/audit-kit/verify.js";
import { pae } from "../../src/evidence/dsse.js";
import { isLowS } from "../../src/evidence/ecdsa-low-s.js";
import { keyAlgorithm, keyId } from "../../src/evidence/keys.js";
import { canonicalJson } from "../../src/lib/canonical-json.js";
import type { Bundle } from "../../src/sim/target/load.js";
import { generatedKeyPair, highSTwin } from "../evidence/helpers.js";
import { runAssay } from "../run-assay.js";
import { suiteTempDir } from "../temp-dir.js";
import { DEMO, demoSoak, ed25519, rewriteManifest, writeKit } from "./helpers.js";

// The other tests build kits with Ed25519; this one signs a kit with ECDSA P-256 (library and
// CLI). The CLI half runs the built CLI (dist/): `npm run build` first.
const p256 = () => generatedKeyPair("ecdsa-p256");

const tmp = suiteTempDir("assay-audit-kit-ecdsa-");
let bundle: Bundle;
let reportBytes: Buffer;

before(async () => {
  ({ bundle, reportBytes } = await demoSoak());
});

function failing(rows: { item: string; status: string; code?: string }[]) {
  return rows.filter((r) => r.status === "fail").map((r) => `${r.item}:${r.code}`);
}

describe("audit kit signed with ECDSA P-256 (library)", () => {
  const keys = p256();

  test("build → verify: every row ok; the envelopes carry the P-256 keyid and DER signatures", async () => {
    assert.equal(keyAlgorithm(keys.privateKey), "ecdsa-p256");
    const dir = join(tmp, "kit-lib");
    await writeKit(dir, reportBytes, bundle, keys.privateKey);
    const r = await verifyAuditKit(dir, keys.publicKey);
    assert.deepEqual(failing(r.rows), []);
    assert.equal(r.verdict, "valid");
    assert.equal(r.keyid, keyId(keys.publicKey));
    for (const file of [KIT.provenance, KIT.soakResult]) {
      const env = JSON.parse(await readFile(join(dir, file), "utf8"));
      assert.equal(env.signatures.length, 1);
      assert.equal(env.signatures[0].keyid, keyId(keys.publicKey), file);
      assert.equal(Buffer.from(env.signatures[0].sig, "base64")[0], 0x30, `${file}: a DER SEQUENCE`);
    }
  });

  test("the soak-result statement: subject the report, predicate the report's summary (§5)", async () => {
    const env = JSON.parse(await readFile(join(tmp, "kit-lib", KIT.soakResult), "utf8"));
    const st = JSON.parse(Buffer.from(env.payload, "base64").toString("utf8"));
    assert.equal(st._type, "https://in-toto.io/Statement/v1");
    assert.equal(st.predicateType, SOAK_RESULT_V1);
    assert.deepEqual(st.subject, [
      { name: KIT.report, digest: { sha256: createHash("sha256").update(reportBytes).digest("hex") } },
    ]);
    const report = JSON.parse(reportBytes.toString("utf8"));
    assert.deepEqual(st.predicate.summary, report.summary);
    assert.ok(Object.keys(report.summary).length > 0);
  });

  test("tampered signature, report; another P-256 key; an Ed25519 key: each fails", async () => {
    const dir = join(tmp, "kit-lib");
    for (const other of [p256().publicKey, ed25519().publicKey]) {
      const r = await verifyAuditKit(dir, other);
      assert.equal(r.verdict, "invalid");
      assert.ok(failing(r.rows).includes(`${KIT.provenance}:envelope_invalid`), failing(r.rows).join());
      assert.ok(failing(r.rows).includes(`${KIT.soakResult}:envelope_invalid`), failing(r.rows).join());
    }
    const envPath = join(dir, KIT.soakResult);
    const original = readFileSync(envPath, "utf8");
    const env = JSON.parse(original);
    const sig = Buffer.from(env.signatures[0].sig, "base64");
    sig[sig.length - 3] = (sig[sig.length - 3] as number) ^ 0x01;
    env.signatures[0].sig = sig.toString("base64");
    writeFileSync(envPath, JSON.stringify(env));
    let r = await verifyAuditKit(dir, keys.publicKey);
    assert.equal(r.verdict, "invalid");
    // The kit's digests catch it first (the signature itself: attest.test.ts, dsse.test.ts).
    assert.ok(
      r.rows.some((x) => x.item === KIT.soakResult && x.status === "fail"),
      JSON.stringify(r.rows),
    );
    writeFileSync(envPath, original);
    assert.equal((await verifyAuditKit(dir, keys.publicKey)).verdict, "valid");
    const reportPath = join(dir, KIT.report);
    const report = readFileSync(reportPath);
    report[20] = (report[20] as number) ^ 0x01;
    writeFileSync(reportPath, report);
    r = await verifyAuditKit(dir, keys.publicKey);
    assert.equal(r.verdict, "invalid");
    assert.ok(
      r.rows.some((x) => x.item === KIT.report && x.status === "fail"),
      JSON.stringify(r.rows),
    );
  });
});

test("a statement re-signed with the high-S twin of its own signature is not the kit as written", async () => {
  // (r, n - s) verifies as well as (r, s): a second envelope anyone can make, without the key.
  const keys = p256();
  const dir = join(tmp, "kit-twin");
  await writeKit(dir, reportBytes, bundle, keys.privateKey);
  const envPath = join(dir, KIT.provenance);
  const env = JSON.parse(readFileSync(envPath, "utf8"));
  const sig = Buffer.from(env.signatures[0].sig, "base64");
  assert.ok(isLowS(sig), "written low");
  const twin = highSTwin(sig);
  const message = pae(env.payloadType, Buffer.from(env.payload, "base64"));
  assert.ok(verify("sha256", message, { key: keys.publicKey, dsaEncoding: "der" }, twin), "a valid twin");
  env.signatures[0].sig = twin.toString("base64");
  writeFileSync(envPath, canonicalJson(env));
  await rewriteManifest(dir, bundle);
  const f = failing((await verifyAuditKit(dir, keys.publicKey)).rows);
  assert.ok(f.includes(`${KIT.provenance}:envelope_invalid`), f.join());
});

describe("audit kit signed with ECDSA P-256 (CLI)", () => {
  const assay = (...args: string[]) => runAssay(args, tmp);

  test("keygen --alg ecdsa-p256 → audit-kit build → verify: exit 0; a tampered envelope or the wrong key: exit 1", () => {
    writeFileSync(join(tmp, "soak.json"), reportBytes);
    for (const name of ["p256", "p256-other"])
      assert.equal(assay("evidence", "keygen", "--out", name, "--alg", "ecdsa-p256").code, 0);
    let r = assay(
      "audit-kit",
      "build",
      "--report",
      "soak.json",
      "--target",
      DEMO,
      "--key",
      "p256.key",
      "--out",
      "kit-cli",
    );
    assert.equal(r.code, 0, r.err);
    r = assay("audit-kit", "verify", "kit-cli", "--key", "p256.pub", "--json");
    assert.equal(r.code, 0, r.out + r.err);
    const j = JSON.parse(r.out);
    assert.equal(j.valid, true);
    assert.ok(j.rows.every((row: { status: string }) => row.status === "ok"));
    r = assay("audit-kit", "verify", "kit-cli", "--key", "p256-other.pub");
    assert.equal(r.code, 1);
    assert.match(r.out, /^fail +provenance\.dsse\.json .*signature_no_matching_keyid/m);
    const path = join(tmp, "kit-cli", KIT.provenance);
    const bytes = readFileSync(path);
    bytes[bytes.length - 30] = (bytes[bytes.length - 30] as number) ^ 0x01;
    writeFileSync(path, bytes);
    r = assay("audit-kit", "verify", "kit-cli", "--key", "p256.pub");
    assert.equal(r.code, 1, r.out + r.err);
    assert.match(r.out, /^fail +provenance\.dsse\.json /m);
  });
});
