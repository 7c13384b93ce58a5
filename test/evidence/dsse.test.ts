import assert from "node:assert/strict";
import { generateKeyPairSync, type KeyObject } from "node:crypto";
import { describe, test } from "node:test";
import { decodeBase64Strict } from "../../src/evidence/base64.js";
import {
  keySigner,
  pae,
  rawSign,
  serializeEnvelope,
  signEnvelope,
  verifyEnvelopeSignature,
} from "../../src/evidence/dsse.js";
import { envelopeFileText, parseEnvelope } from "../../src/evidence/dsse-envelope.js";
import {
  generateKeyPairPem,
  type KeyAlgorithm,
  keyId,
  parsePrivateKey,
  parsePublicKey,
} from "../../src/evidence/keys.js";
import type { AssayError } from "../../src/lib/errors.js";

function keys(alg: KeyAlgorithm): { priv: KeyObject; pub: KeyObject } {
  const pair = generateKeyPairPem(alg);
  return { priv: parsePrivateKey(pair.privateKeyPem, "k"), pub: parsePublicKey(pair.publicKeyPem, "p") };
}

function verify(env: unknown, pub: KeyObject) {
  const parsed = parseEnvelope(env);
  if (!parsed.ok) return { ok: false as const, reason: "malformed" as const };
  const { envelope, payload, signatures } = parsed.parsed;
  return verifyEnvelopeSignature(envelope, payload, signatures, pub);
}

describe("PAE", () => {
  test("the DSSE spec's test vector", () => {
    assert.equal(
      pae("http://example.com/HelloWorld", Buffer.from("hello world")).toString("utf8"),
      "DSSEv1 29 http://example.com/HelloWorld 11 hello world",
    );
  });

  test("lengths count bytes, not characters; an empty body still has its length", () => {
    assert.equal(pae("tÿpe", Buffer.from("é")).toString("utf8"), "DSSEv1 5 tÿpe 2 é");
    assert.deepEqual(pae("", new Uint8Array()), Buffer.from("DSSEv1 0  0 "));
    const body = Buffer.from([0, 255, 10, 32]);
    assert.deepEqual(pae("x", body), Buffer.concat([Buffer.from("DSSEv1 1 x 4 "), body]));
  });
});

describe("strict base64", () => {
  test("canonical standard base64 decodes", () => {
    assert.deepEqual(decodeBase64Strict("aGVsbG8="), Buffer.from("hello"));
    assert.deepEqual(decodeBase64Strict(""), Buffer.alloc(0));
  });

  test("what Node would silently accept is refused", () => {
    for (const s of ["aGVsbG9=", "aGVs bG8=", "aGVsbG8", "aGVsbG8==", "aGVs-G8=", "aGVs_G8=", "aGVsbG8=\n"])
      assert.equal(decodeBase64Strict(s), undefined, s);
    for (const s of ["QQ=", "Q===", "====", "QQ=A", "=QQA", "QUJDRA=", "QUJDR==="])
      assert.equal(decodeBase64Strict(s), undefined, s);
  });

  test("a payload of megabytes (an SBOM predicate) decodes and passes the envelope schema", () => {
    // A repeated group of four in the pattern overflowed V8's regex stack at this size.
    const bytes = Buffer.alloc(6 * 1024 * 1024, "assay ");
    const payload = bytes.toString("base64");
    assert.ok(decodeBase64Strict(payload)?.equals(bytes));
    const parsed = parseEnvelope({
      payload,
      payloadType: "application/vnd.in-toto+json",
      signatures: [{ sig: "QUJD" }],
    });
    assert.ok(parsed.ok, parsed.ok ? "" : parsed.message);
    assert.equal(parsed.ok && parsed.parsed.payload.length, bytes.length);
  });
});

for (const alg of ["ed25519", "ecdsa-p256"] as const) {
  describe(`sign → verify → tamper (${alg})`, () => {
    const { priv, pub } = keys(alg);
    const payload = Buffer.from('{"hello":"world"}');
    const type = "application/vnd.in-toto+json";

    test("a fresh envelope verifies; keyid is the signer's", async () => {
      const env = await signEnvelope(payload, type, [keySigner(priv)]);
      assert.equal(env.signatures[0]?.keyid, keyId(pub));
      assert.deepEqual(verify(env, pub), { ok: true, keyid: keyId(pub) });
    });

    test("ECDSA signatures are ASN.1 DER; Ed25519 signatures are 64 raw bytes", async () => {
      const env = await signEnvelope(payload, type, [keySigner(priv)]);
      const sig = Buffer.from(env.signatures[0]?.sig ?? "", "base64");
      if (alg === "ed25519") assert.equal(sig.length, 64);
      else assert.equal(sig[0], 0x30, "DER SEQUENCE");
    });

    test("a changed payload byte fails", async () => {
      const env = await signEnvelope(payload, type, [keySigner(priv)]);
      const bytes = Buffer.from(payload);
      bytes[3] = (bytes[3] ?? 0) ^ 1;
      assert.equal(verify({ ...env, payload: bytes.toString("base64") }, pub).ok, false);
    });

    test("a changed signature byte fails", async () => {
      const env = await signEnvelope(payload, type, [keySigner(priv)]);
      for (const i of [0, 5, 20, 40]) {
        const sig = Buffer.from(env.signatures[0]?.sig ?? "", "base64");
        sig[i] = (sig[i] ?? 0) ^ 0x40;
        const tampered = { ...env, signatures: [{ keyid: keyId(pub), sig: sig.toString("base64") }] };
        assert.deepEqual(
          verify(tampered, pub),
          { ok: false, keyid: keyId(pub), reason: "bad_signature" },
          `byte ${i}`,
        );
      }
    });

    test("a changed payloadType fails (it is authenticated by PAE)", async () => {
      const env = await signEnvelope(payload, type, [keySigner(priv)]);
      assert.equal(verify({ ...env, payloadType: "application/json" }, pub).ok, false);
    });

    test("a wrong key fails: different keyid, and the same keyid with a foreign signature", async () => {
      const other = keys(alg);
      const env = await signEnvelope(payload, type, [keySigner(priv)]);
      assert.deepEqual(verify(env, other.pub), {
        ok: false,
        keyid: keyId(other.pub),
        reason: "no_matching_keyid",
      });
      const forged = { ...env, signatures: [{ keyid: keyId(other.pub), sig: env.signatures[0]?.sig ?? "" }] };
      assert.deepEqual(verify(forged, other.pub), {
        ok: false,
        keyid: keyId(other.pub),
        reason: "bad_signature",
      });
    });

    test("other keys' signatures are tolerated; one valid signature by this key is required", async () => {
      const other = keys(alg === "ed25519" ? "ecdsa-p256" : "ed25519");
      const env = await signEnvelope(payload, type, [keySigner(other.priv), keySigner(priv)]);
      assert.equal(verify(env, pub).ok, true);
      assert.equal(verify(env, other.pub).ok, true);
      const onlyOther = { ...env, signatures: env.signatures.slice(0, 1) };
      assert.equal(verify(onlyOther, pub).ok, false);
    });

    test("keyid as a hint: an empty one is tried; absent or foreign ones only with anyKeyid", async () => {
      const env = await signEnvelope(payload, type, [keySigner(priv)]);
      const sig = env.signatures[0]?.sig ?? "";
      const ok = { ok: true, keyid: keyId(pub) };
      const noMatch = { ok: false, keyid: keyId(pub), reason: "no_matching_keyid" };
      const check = (s: { keyid?: string; sig: string }, anyKeyid: boolean) => {
        const parsed = parseEnvelope({ ...env, signatures: [s] });
        assert.ok(parsed.ok);
        const { envelope, payload: p, signatures } = parsed.parsed;
        return verifyEnvelopeSignature(envelope, p, signatures, pub, { anyKeyid });
      };
      assert.deepEqual(check({ keyid: "", sig }, false), ok);
      for (const s of [{ sig }, { keyid: "0fa723c3d35330fe4b2c7f6d", sig }]) {
        assert.deepEqual(check(s, false), noMatch, JSON.stringify(s));
        assert.deepEqual(check(s, true), ok, JSON.stringify(s));
      }
      const other = keys(alg);
      for (const s of [{ sig }, { keyid: "", sig }, { keyid: "abc", sig }]) {
        const parsed = parseEnvelope({ ...env, signatures: [s] });
        assert.ok(parsed.ok);
        const { envelope, payload: p, signatures } = parsed.parsed;
        assert.deepEqual(verifyEnvelopeSignature(envelope, p, signatures, other.pub, { anyKeyid: true }), {
          ok: false,
          keyid: keyId(other.pub),
          reason: "no_matching_keyid",
        });
      }
      const tampered = { ...env, payload: Buffer.from('{"hello":"w0rld"}').toString("base64") };
      const parsed = parseEnvelope({ ...tampered, signatures: [{ sig }] });
      assert.ok(parsed.ok);
      const { envelope, payload: p, signatures } = parsed.parsed;
      assert.equal(verifyEnvelopeSignature(envelope, p, signatures, pub, { anyKeyid: true }).ok, false);
    });

    test("rawSign signs exactly PAE(type, body)", async () => {
      const env = await signEnvelope(payload, type, [keySigner(priv)]);
      const direct = rawSign(priv, pae(type, payload));
      if (alg === "ed25519") assert.equal(env.signatures[0]?.sig, direct.toString("base64"));
      const manual = { ...env, signatures: [{ keyid: keyId(pub), sig: direct.toString("base64") }] };
      assert.equal(verify(manual, pub).ok, true);
    });
  });
}

describe("envelope shape", () => {
  test("required fields, types and base64 are checked", () => {
    const good = { payload: "e30=", payloadType: "t", signatures: [{ keyid: "k", sig: "AAAA" }] };
    assert.equal(parseEnvelope(good).ok, true);
    assert.equal(
      parseEnvelope({ ...good, extra: 1 }).ok,
      true,
      "unknown fields are ignored (DSSE parsing rules)",
    );
    for (const bad of [
      null,
      [],
      { ...good, payload: undefined },
      { ...good, payloadType: 3 },
      { ...good, signatures: [] },
      { ...good, signatures: [{ keyid: "k" }] },
      { ...good, payload: "e30" },
      { ...good, payload: "e3-=" },
      { ...good, signatures: [{ keyid: "k", sig: "AAB=" }] },
    ])
      assert.equal(parseEnvelope(bad).ok, false, JSON.stringify(bad));
  });

  test("an envelope file is written only for an envelope its schema accepts", () => {
    const good = { payload: "e30=", payloadType: "t", signatures: [{ keyid: "k", sig: "AAAA" }] };
    assert.equal(envelopeFileText(good), serializeEnvelope(good));
    for (const bad of [
      { ...good, signatures: [] },
      { ...good, payloadType: 3 },
      { ...good, signatures: [{ keyid: "k" }] },
    ])
      assert.throws(
        () => envelopeFileText(bad as never),
        (err: AssayError) => err.code === "internal" && /dsse-envelope schema/.test(err.message),
        JSON.stringify(bad),
      );
  });

  test("an RSA key is not a supported signing key", () => {
    const { privateKey } = generateKeyPairSync("rsa", {
      modulusLength: 2048,
      privateKeyEncoding: { type: "pkcs8", format: "pem" },
      publicKeyEncoding: { type: "spki", format: "pem" },
    });
    assert.throws(() => parsePrivateKey(privateKey, "rsa.key"), { code: "input_invalid" });
  });
});
