import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createPrivateKey, createPublicKey, sign } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { bundleFromJSON, envelopeToJSON, toDSSEBundle } from "@sigstore/bundle";
import { dsse } from "@sigstore/core";
import { toSignedEntity, toTrustMaterial, Verifier } from "@sigstore/verify";
import { keyId } from "../../src/evidence/keys.js";
import { runAssay } from "../run-assay.js";
import { suiteTempDir } from "../temp-dir.js";

// Habit 12: our DSSE envelopes checked by implementations that are not ours, both ways.
// sigstore-js (@sigstore/verify, a devDependency) always runs; securesystemslib (Debian's
// python3-securesystemslib, installed by .ci/run) runs when present. Runs the built CLI
// (dist/): `npm run build` first.
const SSLIB_SCRIPT = fileURLToPath(new URL("../fixtures/evidence/dsse_sslib.py", import.meta.url));
const ALGORITHMS = ["ed25519", "ecdsa-p256"] as const;
const IN_TOTO = "application/vnd.in-toto+json";

const dir = suiteTempDir("assay-evidence-");

const assay = (...args: string[]) => runAssay(args, dir);

/** Key pair `<name>.key`/`<name>.pub` and an envelope `<name>.dsse.json` over one subject, by the CLI. */
function assayAttest(name: string, alg: string): { envelope: string; pub: string } {
  writeFileSync(join(dir, "subject.txt"), `subject of ${name}\n`);
  writeFileSync(join(dir, "predicate.json"), '{"summary":{"passed":3,"note":"héllo ☃"}}');
  let r = assay("evidence", "keygen", "--out", name, "--alg", alg);
  assert.equal(r.code, 0, r.err);
  r = assay(
    "evidence",
    "attest",
    "--subject",
    "subject.txt",
    "--predicate-type",
    "https://assay.dev/test/v1",
    "--predicate",
    "predicate.json",
    "--key",
    `${name}.key`,
    "--out",
    `${name}.dsse.json`,
  );
  assert.equal(r.code, 0, r.err);
  return { envelope: join(dir, `${name}.dsse.json`), pub: join(dir, `${name}.pub`) };
}

type EnvelopeJson = { payload: string; payloadType: string; signatures: { keyid?: string; sig: string }[] };

/** The single-field changes every verifier must refuse. */
function tamperings(env: EnvelopeJson): [string, EnvelopeJson][] {
  const payload = Buffer.from(env.payload, "base64");
  payload[10] = (payload[10] ?? 0) ^ 1;
  const sigs = env.signatures.map((s) => {
    const sig = Buffer.from(s.sig, "base64");
    sig[sig.length - 5] = (sig[sig.length - 5] ?? 0) ^ 1;
    return { ...s, sig: sig.toString("base64") };
  });
  return [
    ["payload byte", { ...env, payload: payload.toString("base64") }],
    ["payloadType", { ...env, payloadType: "application/json" }],
    ["signature byte", { ...env, signatures: sigs }],
  ];
}

// --- sigstore-js ----------------------------------------------------------------------------

const EMPTY_ROOT: Parameters<typeof toTrustMaterial>[0] = {
  mediaType: "application/vnd.dev.sigstore.trustedroot+json;version=0.1",
  tlogs: [],
  certificateAuthorities: [],
  ctlogs: [],
  timestampAuthorities: [],
};

/**
 * Verify a DSSE envelope with sigstore-js: a v0.3 bundle holding the envelope and naming the key
 * by hint, checked with that public key only (no transparency log, no timestamps: offline).
 * Throws a VerificationError when it does not verify.
 */
function sigstoreVerify(envelope: unknown, publicKeyPem: string, hint: string): void {
  const bundle = bundleFromJSON({
    mediaType: "application/vnd.dev.sigstore.bundle.v0.3+json",
    verificationMaterial: {
      publicKey: { hint },
      tlogEntries: [],
      timestampVerificationData: { rfc3161Timestamps: [] },
    },
    dsseEnvelope: envelope,
  });
  const trust = toTrustMaterial(EMPTY_ROOT, (h) => {
    if (h !== hint) throw new Error(`unknown key hint ${h}`);
    return { publicKey: createPublicKey(publicKeyPem), validFor: () => true };
  });
  new Verifier(trust, { tlogThreshold: 0, ctlogThreshold: 0, timestampThreshold: 0 }).verify(
    toSignedEntity(bundle),
  );
}

for (const alg of ALGORITHMS) {
  describe(`DSSE interop with sigstore-js (${alg})`, () => {
    test("an envelope from `assay evidence attest` verifies with @sigstore/verify; tampered ones fail", () => {
      const { envelope, pub } = assayAttest(`sigstore-${alg}`, alg);
      const env = JSON.parse(readFileSync(envelope, "utf8")) as EnvelopeJson;
      const pem = readFileSync(pub, "utf8");
      const keyid = env.signatures[0]?.keyid ?? "";
      sigstoreVerify(env, pem, keyid);
      for (const [what, bad] of tamperings(env))
        assert.throws(() => sigstoreVerify(bad, pem, keyid), { name: "VerificationError" }, what);
      const other = assayAttest(`sigstore-other-${alg}`, alg);
      assert.throws(
        () => sigstoreVerify(env, readFileSync(other.pub, "utf8"), keyid),
        { name: "VerificationError" },
        "another key of the same algorithm",
      );
    });

    test("an envelope assembled by @sigstore/bundle (PAE by @sigstore/core) verifies with assay", () => {
      const { pub } = assayAttest(`sigstore-rev-${alg}`, alg);
      const privateKey = createPrivateKey(readFileSync(join(dir, `sigstore-rev-${alg}.key`), "utf8"));
      const statement = {
        _type: "https://in-toto.io/Statement/v1",
        subject: [{ name: "subject.txt", digest: { sha256: "ab".repeat(32) } }],
        predicateType: "https://example.com/sigstore-js/v1",
        predicate: { by: "sigstore-js" },
      };
      const artifact = Buffer.from(JSON.stringify(statement, null, 2));
      const message = dsse.preAuthEncoding(IN_TOTO, artifact);
      // cosign and sigstore-js: Ed25519 over the message, ECDSA P-256 over its SHA-256 in DER.
      const signature = sign(alg === "ed25519" ? null : "sha256", message, privateKey);
      const file = join(dir, `sigstore-rev-${alg}.dsse.json`);
      const verify = (env: EnvelopeJson, ...flags: string[]) => {
        writeFileSync(file, JSON.stringify(env));
        return assay("evidence", "verify-attestation", file, "--key", pub, "--json", ...flags);
      };
      // With our keyid as the key hint, sigstore-js writes it as the signature's keyid.
      const keyid = keyId(createPublicKey(readFileSync(pub, "utf8")));
      const hinted = toEnvelope(artifact, signature, keyid);
      assert.equal(hinted.signatures[0]?.keyid, keyid);
      let r = verify(hinted);
      assert.equal(r.code, 0, r.out + r.err);
      assert.equal(JSON.parse(r.out).predicateType, "https://example.com/sigstore-js/v1");
      for (const [what, bad] of tamperings(hinted)) assert.equal(verify(bad).code, 1, what);
      // Without a hint it sets keyid "", which its JSON form (proto3) leaves out: no keyid at all.
      // That takes --any-keyid; an explicit empty keyid (Go's in-toto, cosign) does not.
      const bare = toEnvelope(artifact, signature);
      assert.equal(bare.signatures[0]?.keyid, undefined);
      r = verify(bare);
      assert.equal(r.code, 1, r.out + r.err);
      assert.equal(JSON.parse(r.out).checks[2].code, "signature_no_matching_keyid");
      assert.equal(verify(bare, "--any-keyid").code, 0);
      const sig = bare.signatures[0]?.sig ?? "";
      assert.equal(verify({ ...bare, signatures: [{ keyid: "", sig }] }).code, 0);
      for (const [what, bad] of tamperings(bare)) assert.equal(verify(bad, "--any-keyid").code, 1, what);
    });
  });
}

/** A DSSE envelope as sigstore-js assembles and serializes it. */
function toEnvelope(artifact: Buffer, signature: Buffer, keyHint?: string): EnvelopeJson {
  const bundle = toDSSEBundle({
    artifact,
    artifactType: IN_TOTO,
    signature,
    ...(keyHint ? { keyHint } : {}),
  });
  return envelopeToJSON(bundle.content.dsseEnvelope) as EnvelopeJson;
}

// --- securesystemslib (Python) ---------------------------------------------------------------

/** A python3 that can import securesystemslib and cryptography, or why there is none. */
function findPython(): { python: string } | { skip: string } {
  // Debian's python3-securesystemslib lives under /usr/bin/python3; a pyenv or venv python3
  // first on PATH would not see it.
  for (const python of ["/usr/bin/python3", "python3"]) {
    const r = spawnSync(python, ["-c", "import securesystemslib.keys, cryptography"], { encoding: "utf8" });
    if (r.status === 0) return { python };
  }
  return {
    skip: "python3-securesystemslib is not installed (apt-get install python3-securesystemslib; .ci/run does)",
  };
}

const found = findPython();
const skip = "skip" in found ? found.skip : false;

function sslib(...args: string[]): string {
  if (!("python" in found)) throw new Error("no python");
  const r = spawnSync(found.python, [SSLIB_SCRIPT, ...args], { encoding: "utf8", timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

function sslibVerify(envelope: EnvelopeJson | string, pub: string): { ok: boolean; keyid_matches: boolean } {
  let file = envelope;
  if (typeof envelope !== "string") {
    file = join(dir, "sslib-candidate.dsse.json");
    writeFileSync(file, JSON.stringify(envelope));
  }
  return JSON.parse(sslib("verify", file as string, pub));
}

for (const alg of ALGORITHMS) {
  describe(`DSSE interop with securesystemslib (${alg})`, { skip }, () => {
    test("an envelope from `assay evidence attest` verifies; its keyid is sha256 of the SPKI DER; tampered ones fail", () => {
      const { envelope, pub } = assayAttest(`sslib-${alg}`, alg);
      assert.deepEqual(sslibVerify(envelope, pub), { ok: true, keyid_matches: true, reason: "" });
      const env = JSON.parse(readFileSync(envelope, "utf8")) as EnvelopeJson;
      for (const [what, bad] of tamperings(env)) assert.equal(sslibVerify(bad, pub).ok, false, what);
      const other = assayAttest(`sslib-other-${alg}`, alg);
      assert.deepEqual(sslibVerify(envelope, other.pub), {
        ok: false,
        keyid_matches: false,
        reason: "no signature verifies",
      });
    });

    test("an envelope signed by securesystemslib (its own keyid) verifies with assay --any-keyid; tampered ones fail", () => {
      const out = join(dir, `sslib-signed-${alg}`);
      mkdirSync(out);
      sslib("sign", alg, out);
      const file = join(out, "envelope.dsse.json");
      const pub = join(out, "public.pem");
      const env = JSON.parse(readFileSync(file, "utf8")) as EnvelopeJson;
      assert.match(env.signatures[0]?.keyid ?? "", /^[0-9a-f]{64}$/, "securesystemslib's keyid, not ours");
      const verify = (e: EnvelopeJson, key: string, ...flags: string[]) => {
        writeFileSync(file, JSON.stringify(e));
        return assay("evidence", "verify-attestation", file, "--key", key, "--json", ...flags);
      };
      let r = verify(env, pub);
      assert.equal(r.code, 1, "a foreign keyid is not tried by default");
      assert.equal(JSON.parse(r.out).checks[2].code, "signature_no_matching_keyid");
      r = verify(env, pub, "--any-keyid");
      assert.equal(r.code, 0, r.out + r.err);
      assert.equal(JSON.parse(r.out).predicateType, "https://example.com/securesystemslib/v1");
      for (const [what, bad] of tamperings(env)) assert.equal(verify(bad, pub, "--any-keyid").code, 1, what);
      const wrong = assayAttest(`sslib-wrong-${alg}`, alg);
      r = verify(env, wrong.pub, "--any-keyid");
      assert.equal(r.code, 1);
      assert.equal(JSON.parse(r.out).checks[2].code, "signature_no_matching_keyid");
    });
  });
}
