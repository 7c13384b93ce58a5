import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { writeKeyPair } from "../../src/evidence/key-files.js";
import {
  generateKeyPairPem,
  keyAlgorithm,
  keyId,
  parsePrivateKey,
  parsePublicKey,
  readPrivateKeyFile,
  readPublicKeyFile,
} from "../../src/evidence/keys.js";
import { writeFileAtomic } from "../../src/lib/atomic-write.js";
import { suiteTempDir } from "../temp-dir.js";

const HAS_OPENSSL = spawnSync("openssl", ["version"]).status === 0;

/** keyid from the PEM text alone: the base64 body of a PUBLIC KEY block is the SPKI DER. */
function keyIdFromPem(pem: string): string {
  const body = pem.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, "").replace(/\s+/g, "");
  return `sha256:${createHash("sha256").update(Buffer.from(body, "base64")).digest("hex")}`;
}

const dir = suiteTempDir("assay-keys-");

for (const alg of ["ed25519", "ecdsa-p256"] as const) {
  describe(`keys (${alg})`, () => {
    test("PKCS#8 private and SPKI public PEM of the right algorithm", () => {
      const pair = generateKeyPairPem(alg);
      assert.match(pair.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
      assert.match(pair.publicKeyPem, /^-----BEGIN PUBLIC KEY-----\n/);
      assert.equal(keyAlgorithm(parsePrivateKey(pair.privateKeyPem, "k")), alg);
      assert.equal(keyAlgorithm(parsePublicKey(pair.publicKeyPem, "p")), alg);
    });

    test("keyid = sha256: + hex sha256 of the SPKI DER, whichever half it is computed from", () => {
      const pair = generateKeyPairPem(alg);
      const expected = keyIdFromPem(pair.publicKeyPem);
      assert.match(expected, /^sha256:[0-9a-f]{64}$/);
      assert.equal(keyId(parsePublicKey(pair.publicKeyPem, "p")), expected);
      assert.equal(keyId(parsePrivateKey(pair.privateKeyPem, "k")), expected);
      assert.equal(keyId(parsePublicKey(pair.privateKeyPem, "k")), expected, "a private key's public half");
    });

    test("keyid matches openssl's SPKI DER", { skip: HAS_OPENSSL ? false : "openssl not installed" }, () => {
      const pair = generateKeyPairPem(alg);
      const der = spawnSync("openssl", ["pkey", "-pubin", "-outform", "DER"], { input: pair.publicKeyPem });
      assert.equal(der.status, 0, String(der.stderr));
      const viaOpenssl = `sha256:${createHash("sha256").update(der.stdout).digest("hex")}`;
      assert.equal(keyId(parsePublicKey(pair.publicKeyPem, "p")), viaOpenssl);
    });

    test("keygen writes <name>.key with mode 0600 and <name>.pub", async () => {
      const name = join(dir, `k-${alg}`);
      const w = await writeKeyPair(name, alg);
      assert.equal(statSync(`${name}.key`).mode & 0o777, 0o600);
      assert.equal(statSync(`${name}.pub`).mode & 0o022, 0, "public key not group/world-writable");
      assert.equal(w.keyid, keyIdFromPem(readFileSync(`${name}.pub`, "utf8")));
      assert.equal(keyAlgorithm(parsePrivateKey(readFileSync(`${name}.key`, "utf8"), "k")), alg);
    });
  });
}

describe("keygen files", () => {
  test("refuses to overwrite either file, and writes nothing then", async () => {
    const name = join(dir, "exists");
    writeFileSync(`${name}.pub`, "keep me");
    await assert.rejects(writeKeyPair(name, "ed25519"), { code: "output_unwritable" });
    assert.equal(existsSync(`${name}.key`), false);
    assert.equal(readFileSync(`${name}.pub`, "utf8"), "keep me");
  });

  test("--force replaces both; a replaced world-readable key file ends up 0600", async () => {
    const name = join(dir, "forced");
    writeFileSync(`${name}.key`, "old");
    chmodSync(`${name}.key`, 0o644);
    writeFileSync(`${name}.pub`, "old");
    await writeKeyPair(name, "ecdsa-p256", { force: true });
    assert.equal(statSync(`${name}.key`).mode & 0o777, 0o600);
    assert.match(readFileSync(`${name}.key`, "utf8"), /BEGIN PRIVATE KEY/);
    assert.match(readFileSync(`${name}.pub`, "utf8"), /BEGIN PUBLIC KEY/);
  });

  test("the mode is 0600 even under a permissive umask", async () => {
    const old = process.umask(0);
    try {
      const name = join(dir, "umask");
      await writeKeyPair(name, "ed25519");
      assert.equal(statSync(`${name}.key`).mode & 0o777, 0o600);
    } finally {
      process.umask(old);
    }
  });

  test("atomic write: no temporary file is left behind, no-overwrite fails with EEXIST as a code", async () => {
    const p = join(dir, "atomic.txt");
    await writeFileAtomic(p, "a");
    await writeFileAtomic(p, "b");
    assert.equal(readFileSync(p, "utf8"), "b");
    await assert.rejects(writeFileAtomic(p, "c", { overwrite: false }), { code: "output_unwritable" });
    assert.equal(readFileSync(p, "utf8"), "b");
    const left = spawnSync("ls", [dir], { encoding: "utf8" })
      .stdout.split("\n")
      .filter((f) => f.endsWith(".tmp"));
    assert.deepEqual(left, []);
  });

  test("unreadable and non-key files are input errors", async () => {
    await assert.rejects(readPrivateKeyFile(join(dir, "missing.key")), { code: "input_unreadable" });
    writeFileSync(join(dir, "junk.pem"), "not a key");
    await assert.rejects(readPublicKeyFile(join(dir, "junk.pem")), { code: "input_invalid" });
  });
});
