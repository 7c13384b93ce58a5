import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { ASSAY_BIN, runAssay } from "../run-assay.js";
import { suiteTempDir } from "../temp-dir.js";

// Runs the built CLI (dist/): `npm run build` first.

const dir = suiteTempDir("assay-attest-cli-");
const assay = (...args: string[]) => runAssay(args, dir);

before(async () => {
  writeFileSync(join(dir, "report.json"), '{"ok":true}\n');
  writeFileSync(join(dir, "bundle.tar.gz"), Buffer.from([1, 2, 3]));
  writeFileSync(join(dir, "predicate.json"), '{"summary":{"passed":3}}');
});

for (const alg of ["ed25519", "ecdsa-p256"] as const) {
  describe(`assay evidence keygen / attest / verify-attestation (${alg})`, () => {
    const key = `signer-${alg}`;
    const env = `out-${alg}.dsse.json`;

    test("keygen: exit 0, <name>.key 0600 and <name>.pub; exit 2 when they exist; --force replaces", () => {
      let r = assay("evidence", "keygen", "--out", key, "--alg", alg);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /^keyid {8}sha256:[0-9a-f]{64}$/m);
      assert.equal(statSync(join(dir, `${key}.key`)).mode & 0o777, 0o600);
      const pub = readFileSync(join(dir, `${key}.pub`), "utf8");
      r = assay("evidence", "keygen", "--out", key, "--alg", alg);
      assert.equal(r.code, 2);
      assert.match(r.err, /refusing to overwrite/);
      assert.equal(readFileSync(join(dir, `${key}.pub`), "utf8"), pub);
      r = assay("evidence", "keygen", "--out", `${key}-2`, "--alg", alg);
      assert.equal(r.code, 0, r.err);
      r = assay("evidence", "keygen", "--out", `${key}-2`, "--alg", alg, "--force");
      assert.equal(r.code, 0, r.err);
    });

    test("attest then verify: exit 0, one line per check", () => {
      let r = assay(
        "evidence",
        "attest",
        "--subject",
        "report.json",
        "bundle.tar.gz",
        "--predicate-type",
        "https://assay.dev/test/v1",
        "--predicate",
        "predicate.json",
        "--key",
        `${key}.key`,
        "--out",
        env,
      );
      assert.equal(r.code, 0, r.err);
      const text = readFileSync(join(dir, env), "utf8");
      assert.equal(text.endsWith("}"), true, "canonical JSON, no trailing newline");
      r = assay(
        "evidence",
        "verify-attestation",
        env,
        "--key",
        `${key}.pub`,
        "--subject",
        "report.json",
        "bundle.tar.gz",
      );
      assert.equal(r.code, 0, r.out + r.err);
      assert.deepEqual(
        r.out
          .trim()
          .split("\n")
          .map((l) => l.split(/\s+/).slice(0, 2).join(" ")),
        [
          "pass envelope",
          "pass payload_type",
          "pass signature",
          "pass statement",
          "pass subjects",
          `VALID ${env}`,
        ],
      );
    });

    test("--json: verdict, checks and subjects", () => {
      const r = assay("evidence", "verify-attestation", env, "--key", `${key}.pub`, "--json");
      assert.equal(r.code, 0, r.err);
      const j = JSON.parse(r.out);
      assert.equal(j.verdict, "valid");
      assert.equal(j.valid, true);
      assert.deepEqual(
        j.subjects.map((s: { name: string }) => s.name),
        ["bundle.tar.gz", "report.json"],
      );
      assert.equal(j.checks.length, 5);
    });

    test("exit 1: wrong key, tampered subject file, tampered envelope", () => {
      let r = assay("evidence", "verify-attestation", env, "--key", `${key}-2.pub`);
      assert.equal(r.code, 1);
      assert.match(r.out, /^fail {2}signature {5}no signature with keyid/m);
      writeFileSync(join(dir, "report.json"), '{"ok":false}\n');
      r = assay("evidence", "verify-attestation", env, "--key", `${key}.pub`, "--subject", "report.json");
      assert.equal(r.code, 1);
      assert.match(r.out, /^fail {2}subjects {6}`report\.json`: sha256 /m);
      writeFileSync(join(dir, "report.json"), '{"ok":true}\n');
      const doc = JSON.parse(readFileSync(join(dir, env), "utf8"));
      doc.payloadType = "application/json";
      writeFileSync(join(dir, "type.dsse.json"), JSON.stringify(doc));
      r = assay("evidence", "verify-attestation", "type.dsse.json", "--key", `${key}.pub`, "--json");
      assert.equal(r.code, 1);
      assert.equal(JSON.parse(r.out).checks[1].code, "payload_type_unknown");
    });

    test("exit 2: not JSON, not an envelope, missing file, missing key, bad usage", {
      skip: alg === "ecdsa-p256" ? "algorithm-independent; run once" : false,
    }, () => {
      writeFileSync(join(dir, "bad.json"), "{");
      writeFileSync(join(dir, "notenv.json"), '{"payload":1}');
      assert.equal(assay("evidence", "verify-attestation", "bad.json", "--key", `${key}.pub`).code, 2);
      const r = assay("evidence", "verify-attestation", "notenv.json", "--key", `${key}.pub`);
      assert.equal(r.code, 2);
      assert.match(r.out, /^fail {2}envelope {6}not a DSSE envelope/m);
      assert.equal(assay("evidence", "verify-attestation", "missing.json", "--key", `${key}.pub`).code, 2);
      assert.equal(assay("evidence", "verify-attestation", env, "--key", "missing.pub").code, 2);
      assert.equal(assay("evidence", "verify-attestation", env).code, 2, "--key is required");
      const base = [
        "evidence",
        "attest",
        "--subject",
        "report.json",
        "--key",
        `${key}.key`,
        "--out",
        "x.dsse.json",
      ];
      assert.equal(assay(...base, "--predicate-type", "nope", "--predicate", "predicate.json").code, 2);
      assert.equal(assay(...base, "--predicate-type", "a:b", "--predicate", "bad.json").code, 2);
      writeFileSync(join(dir, "array.json"), "[1]");
      assert.equal(assay(...base, "--predicate-type", "a:b", "--predicate", "array.json").code, 2);
      // Signed as its canonical form, a predicate JSON.parse would settle one way is refused.
      writeFileSync(join(dir, "dup.json"), '{"summary":{"passed":3,\n "passed":4}}');
      const dup = assay(...base, "--predicate-type", "a:b", "--predicate", "dup.json");
      assert.equal(dup.code, 2);
      assert.equal(dup.err, "assay: dup.json:2:2: predicate is not I-JSON: duplicate key `passed`\n");
      assert.equal(
        assay(
          "evidence",
          "attest",
          "--subject",
          "nope.txt",
          "--predicate-type",
          "a:b",
          "--predicate",
          "predicate.json",
          "--key",
          `${key}.key`,
          "--out",
          "x.dsse.json",
        ).code,
        2,
      );
    });
  });
}

test("keygen --alg rejects an unknown algorithm (exit 2)", () => {
  assert.equal(assay("evidence", "keygen", "--out", "k", "--alg", "rsa").code, 2);
});

test("verify-attestation reads the envelope from stdin with -", () => {
  const env = "out-ed25519.dsse.json";
  const r = spawnSync(
    process.execPath,
    [ASSAY_BIN, "evidence", "verify-attestation", "-", "--key", "signer-ed25519.pub"],
    { cwd: dir, encoding: "utf8", input: readFileSync(join(dir, env)) },
  );
  assert.equal(r.status, 0, r.stderr);
});
