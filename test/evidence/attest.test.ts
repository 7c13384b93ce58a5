import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import type { KeyObject } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import fc from "fast-check";
import { attest, statementFor } from "../../src/evidence/attest.js";
import { type DsseEnvelope, keySigner, serializeEnvelope, signEnvelope } from "../../src/evidence/dsse.js";
import {
  generateKeyPairPem,
  type KeyAlgorithm,
  keyId,
  parsePrivateKey,
  parsePublicKey,
} from "../../src/evidence/keys.js";
import {
  IN_TOTO_PAYLOAD_TYPE,
  IN_TOTO_STATEMENT_TYPE,
  subjectFromBytes,
} from "../../src/evidence/statement.js";
import { verifyAttestation } from "../../src/evidence/verify-attestation.js";
import { canonicalJson } from "../../src/lib/canonical-json.js";
import { readSchema } from "../read-schema.js";
import { tempDir } from "../temp-dir.js";

const HAS_OPENSSL = spawnSync("openssl", ["version"]).status === 0;

function keys(alg: KeyAlgorithm): { priv: KeyObject; pub: KeyObject; pubPem: string } {
  const pair = generateKeyPairPem(alg);
  return {
    priv: parsePrivateKey(pair.privateKeyPem, "k"),
    pub: parsePublicKey(pair.publicKeyPem, "p"),
    pubPem: pair.publicKeyPem,
  };
}

const A = subjectFromBytes("a.txt", Buffer.from("hello\n"));
const B = subjectFromBytes("b.bin", Buffer.from([0, 1, 2]));
const PREDICATE_TYPE = "https://assay.dev/test/v1";

/** What `verify-attestation` does with a file's bytes: 2 unparseable or malformed, 1 invalid, 0 valid. */
function exitFor(bytes: Buffer, pub: KeyObject): number {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString("utf8"));
  } catch {
    return 2;
  }
  const v = verifyAttestation(value, { publicKey: pub }).verdict;
  return v === "valid" ? 0 : v === "invalid" ? 1 : 2;
}

describe("statement", () => {
  test("in-toto Statement v1 with sorted subjects {name, digest: {sha256}}", () => {
    const st = statementFor({ subjects: [B, A], predicateType: PREDICATE_TYPE, predicate: { x: 1 } });
    assert.deepEqual(st, {
      _type: IN_TOTO_STATEMENT_TYPE,
      subject: [
        {
          name: "a.txt",
          digest: { sha256: "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03" },
        },
        B,
      ],
      predicateType: PREDICATE_TYPE,
      predicate: { x: 1 },
    });
  });

  test("duplicate subject names and a non-URI predicateType are refused", () => {
    assert.throws(() => statementFor({ subjects: [A, A], predicateType: PREDICATE_TYPE, predicate: {} }), {
      code: "input_invalid",
    });
    assert.throws(() => statementFor({ subjects: [A], predicateType: "not a uri", predicate: {} }), {
      code: "input_invalid",
    });
    assert.throws(() => statementFor({ subjects: [], predicateType: PREDICATE_TYPE, predicate: {} }), {
      code: "input_invalid",
    });
  });
});

for (const alg of ["ed25519", "ecdsa-p256"] as const) {
  describe(`attest → verifyAttestation (${alg})`, () => {
    const k = keys(alg);
    const make = () =>
      attest({ subjects: [A, B], predicateType: PREDICATE_TYPE, predicate: { n: 1 }, privateKey: k.priv });

    test("valid: every check passes; the payload is the canonical JSON of the statement", async () => {
      const env = await make();
      assert.equal(env.payloadType, IN_TOTO_PAYLOAD_TYPE);
      const statement = JSON.parse(Buffer.from(env.payload, "base64").toString("utf8"));
      assert.equal(Buffer.from(env.payload, "base64").toString("utf8"), canonicalJson(statement));
      const r = verifyAttestation(env, { publicKey: k.pub, subjects: [A, B] });
      assert.equal(r.verdict, "valid");
      assert.deepEqual(
        r.checks.map((c) => [c.check, c.status]),
        [
          ["envelope", "pass"],
          ["payload_type", "pass"],
          ["signature", "pass"],
          ["statement", "pass"],
          ["subjects", "pass"],
        ],
      );
      assert.equal(r.keyid, keyId(k.pub));
      assert.deepEqual(r.statement, statement);
    });

    test("deterministic payload (and, for Ed25519, the whole envelope)", async () => {
      const [e1, e2] = [await make(), await make()];
      assert.equal(e1.payload, e2.payload);
      if (alg === "ed25519") assert.equal(serializeEnvelope(e1), serializeEnvelope(e2));
    });

    test("tampered payload, signature or payloadType → invalid", async () => {
      const env = await make();
      const payload = Buffer.from(env.payload, "base64");
      payload[payload.length - 3] = (payload[payload.length - 3] ?? 0) ^ 1;
      const sig = Buffer.from(env.signatures[0]?.sig ?? "", "base64");
      sig[10] = (sig[10] ?? 0) ^ 1;
      const cases: [DsseEnvelope, string][] = [
        [{ ...env, payload: payload.toString("base64") }, "signature_invalid"],
        [{ ...env, signatures: [{ keyid: keyId(k.pub), sig: sig.toString("base64") }] }, "signature_invalid"],
        [{ ...env, payloadType: "application/vnd.in-toto+jsoN" }, "payload_type_unknown"],
      ];
      for (const [bad, code] of cases) {
        const r = verifyAttestation(bad, { publicKey: k.pub });
        assert.equal(r.verdict, "invalid");
        assert.equal(r.checks.find((c) => c.status === "fail")?.code, code);
        assert.equal(r.statement, undefined, "nothing of an unverified payload is returned");
      }
    });

    test("a wrong key → invalid, with no matching keyid", async () => {
      const r = verifyAttestation(await make(), { publicKey: keys(alg).pub });
      assert.equal(r.verdict, "invalid");
      assert.equal(r.checks[2]?.code, "signature_no_matching_keyid");
      assert.deepEqual(
        r.checks.slice(3).map((c) => c.status),
        ["skip", "skip"],
      );
    });

    test("unknown payloadType with a valid signature → invalid, with a clear reason", async () => {
      const statement = statementFor({ subjects: [A], predicateType: PREDICATE_TYPE, predicate: {} });
      const env = await signEnvelope(Buffer.from(canonicalJson(statement)), "application/json", [
        keySigner(k.priv),
      ]);
      const r = verifyAttestation(env, { publicKey: k.pub });
      assert.equal(r.verdict, "invalid");
      assert.equal(r.checks[1]?.code, "payload_type_unknown");
      assert.match(r.checks[1]?.message ?? "", /unknown payloadType `application\/json`/);
    });

    test("a signed payload that is not a statement → invalid", async () => {
      for (const [body, code] of [
        ["not json", "statement_not_json"],
        [
          '{"_type":"https://in-toto.io/Statement/v0.1","subject":[],"predicateType":"x:y"}',
          "statement_invalid",
        ],
        [
          '{"_type":"https://in-toto.io/Statement/v1","subject":[{"name":"a"}],"predicateType":"x:y"}',
          "statement_invalid",
        ],
      ] as const) {
        const env = await signEnvelope(Buffer.from(body), IN_TOTO_PAYLOAD_TYPE, [keySigner(k.priv)]);
        const r = verifyAttestation(env, { publicKey: k.pub });
        assert.equal(r.verdict, "invalid", body);
        assert.equal(r.checks[3]?.code, code, body);
      }
    });

    test("subjects: a changed file or an unknown name → invalid", async () => {
      const env = await make();
      const changed = subjectFromBytes("a.txt", Buffer.from("hello!\n"));
      let r = verifyAttestation(env, { publicKey: k.pub, subjects: [B, changed] });
      assert.equal(r.verdict, "invalid");
      assert.equal(r.checks[4]?.code, "subject_digest_mismatch");
      r = verifyAttestation(env, {
        publicKey: k.pub,
        subjects: [subjectFromBytes("c.txt", Buffer.from(""))],
      });
      assert.equal(r.checks[4]?.code, "subject_missing");
    });

    test("not an envelope → malformed", () => {
      for (const v of [null, 1, "x", {}, { payload: "e30=", payloadType: "t", signatures: [] }]) {
        const r = verifyAttestation(v, { publicKey: k.pub });
        assert.equal(r.verdict, "malformed");
        assert.equal(r.checks[0]?.code, "envelope_malformed");
      }
    });

    test("property: any single-byte change to the envelope file is unparseable (2) or invalid (1)", async () => {
      const file = Buffer.from(serializeEnvelope(await make()), "utf8");
      assert.equal(exitFor(file, k.pub), 0);
      // Every position once, with a deterministic replacement...
      for (let i = 0; i < file.length; i++) {
        const b = Buffer.from(file);
        b[i] = ((b[i] ?? 0) + 1 + (i % 254)) & 0xff;
        assert.notEqual(exitFor(b, k.pub), 0, `byte ${i}`);
      }
      // ...and any position with any other value.
      fc.assert(
        fc.property(fc.nat(file.length - 1), fc.integer({ min: 1, max: 255 }), (i, delta) => {
          const b = Buffer.from(file);
          b[i] = ((b[i] ?? 0) + delta) & 0xff;
          const code = exitFor(b, k.pub);
          return code === 1 || code === 2;
        }),
        { numRuns: 3000 },
      );
    });

    test("openssl verifies the signature over PAE", {
      skip: HAS_OPENSSL ? false : "openssl not installed",
    }, async (t) => {
      const env = await make();
      const dir = tempDir("assay-openssl-", t);
      // PAE rebuilt here from the spec text, not with src/evidence/dsse.ts.
      const body = Buffer.from(env.payload, "base64");
      const message = Buffer.concat([
        Buffer.from(`DSSEv1 ${env.payloadType.length} ${env.payloadType} ${body.length} `),
        body,
      ]);
      writeFileSync(join(dir, "pae.bin"), message);
      writeFileSync(join(dir, "sig.bin"), Buffer.from(env.signatures[0]?.sig ?? "", "base64"));
      writeFileSync(join(dir, "key.pub"), k.pubPem);
      const args =
        alg === "ed25519"
          ? [
              "pkeyutl",
              "-verify",
              "-pubin",
              "-inkey",
              "key.pub",
              "-rawin",
              "-in",
              "pae.bin",
              "-sigfile",
              "sig.bin",
            ]
          : ["dgst", "-sha256", "-verify", "key.pub", "-signature", "sig.bin", "pae.bin"];
      const ok = spawnSync("openssl", args, { cwd: dir, encoding: "utf8" });
      assert.equal(ok.status, 0, ok.stderr + ok.stdout);
      writeFileSync(join(dir, "pae.bin"), Buffer.concat([message, Buffer.from("x")]));
      assert.notEqual(
        spawnSync("openssl", args, { cwd: dir }).status,
        0,
        "openssl rejects a changed message",
      );
    });
  });
}

test("the schemas' $ids are pinned", () => {
  assert.equal(
    readSchema("dsse-envelope.schema.json").$id,
    "https://assay.dev/schemas/dsse-envelope.schema.json",
  );
  assert.equal(
    readSchema("in-toto-statement.schema.json").$id,
    "https://assay.dev/schemas/in-toto-statement.schema.json",
  );
  for (const name of ["dsse-envelope.schema.json", "in-toto-statement.schema.json"])
    assert.equal(readSchema(name).$schema, "https://json-schema.org/draft/2020-12/schema");
});
