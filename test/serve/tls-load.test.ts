import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createPrivateKey } from "node:crypto";
import { copyFile, readFile, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { before, describe, test } from "node:test";
import { promisify } from "node:util";
import { AssayError, formatDiagnostic } from "../../src/lib/errors.js";
import type { Profile, TlsConfig } from "../../src/serve/config-types.js";
import { DEFAULT_CIPHERS } from "../../src/serve/tls/ciphers.js";
import { loadTls } from "../../src/serve/tls/load.js";
import { suiteTempDir } from "../temp-dir.js";
import {
  createIntermediateCa,
  createTestPki,
  issueCert,
  LOCALHOST_SANS,
  OPENSSL,
  type TestCert,
  type TestPki,
} from "./fixtures-pki.js";

const dir = suiteTempDir("assay-tls-load-");
let pki: TestPki;
before(async () => {
  pki = await createTestPki(dir);
});

function config(cert: TestCert, more: Partial<TlsConfig> = {}): TlsConfig {
  return {
    cert_file: cert.certFile,
    key_file: cert.keyFile,
    min_version: "TLSv1.2",
    ciphers: DEFAULT_CIPHERS,
    reload: false,
    ...more,
  };
}

/** loadTls must fail with serve_tls_invalid located at `file`, on one line naming it. */
async function refused(cfg: TlsConfig, file: string | undefined, what: RegExp, profile: Profile = "dev") {
  const err = await loadTls(cfg, profile).then(
    () => assert.fail("loadTls accepted it"),
    (e: unknown) => e,
  );
  assert.ok(err instanceof AssayError, String(err));
  assert.equal(err.code, "serve_tls_invalid");
  assert.equal(err.where, file);
  assert.match(err.message, what);
  const line = formatDiagnostic(err.diagnostics[0] ?? err);
  assert.ok(!line.includes("\n"), `not one line: ${line}`);
  if (file !== undefined) assert.ok(line.startsWith(`${file}: `), line);
}

describe("loadTls", () => {
  test("a CA-issued certificate: options for https.createServer and what it serves", async () => {
    const m = await loadTls(config(pki.server), "prod");
    assert.equal(m.options.minVersion, "TLSv1.2");
    assert.equal(m.options.ciphers, DEFAULT_CIPHERS);
    assert.equal(m.options.honorCipherOrder, true);
    assert.equal(m.options.requestCert, undefined);
    assert.equal(m.options.ca, undefined, "no client CA without mTLS");
    assert.equal(m.certificate.serial, "1001");
    assert.equal(m.certificate.subject, "CN=server-1001");
    assert.match(m.certificate.not_after, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    assert.match(m.digest, /^sha256:[0-9a-f]{64}$/);
  });

  test("mTLS: the client CA bundle only, a certificate requested, the handshake not refused", async () => {
    const mtls = { enabled: true, client_ca_file: pki.ca.certFile, allowed_sans: [] };
    const m = await loadTls(config(pki.server, { mtls, min_version: "TLSv1.3" }), "prod");
    assert.equal(m.options.requestCert, true);
    assert.equal(m.options.rejectUnauthorized, false);
    assert.deepEqual(m.options.ca, [(await readFile(pki.ca.certFile, "utf8")).trim()]);
    assert.equal(m.options.minVersion, "TLSv1.3");
    const off = await loadTls(config(pki.server, { mtls: { ...mtls, enabled: false } }), "prod");
    assert.equal(off.options.requestCert, undefined);
  });

  test("ca_file is sent after the leaf; a chain out of order is refused at the file at fault", async () => {
    const inter = await createIntermediateCa(pki.ca, dir, "intermediate");
    const leaf = await issueCert(inter, dir, { name: "chained", serial: "3003", sans: LOCALHOST_SANS });
    const m = await loadTls(config(leaf, { ca_file: inter.certFile }), "prod");
    assert.equal(String(m.options.cert).match(/BEGIN CERTIFICATE/g)?.length, 2);
    await refused(config(leaf, { ca_file: pki.ca.certFile }), pki.ca.certFile, /did not issue/);
    // Without ca_file the leaf is served alone: that is the operator's call, not an error.
    assert.equal(
      String((await loadTls(config(leaf), "prod")).options.cert).match(/BEGIN CERTIFICATE/g)?.length,
      1,
    );
  });

  test("an empty cipher list falls back to DEFAULT_CIPHERS; a list OpenSSL cannot use is refused", async () => {
    assert.equal(
      (await loadTls(config(pki.server, { ciphers: "" }), "dev")).options.ciphers,
      DEFAULT_CIPHERS,
    );
    await refused(config(pki.server, { ciphers: "NO-SUCH-CIPHER" }), undefined, /`tls\.ciphers`/);
  });

  test("self-signed: refused with profile prod, accepted with dev", async () => {
    await refused(config(pki.selfSigned), pki.selfSigned.certFile, /self-signed.*prod/, "prod");
    assert.equal((await loadTls(config(pki.selfSigned), "dev")).certificate.serial, pki.selfSigned.serial);
  });

  test("an expired certificate is refused in every profile", async () => {
    const old = await issueCert(pki.ca, dir, { name: "expired-server", sans: LOCALHOST_SANS, expired: true });
    await refused(config(old), old.certFile, /expired at \d{4}-/, "dev");
    await refused(config(old), old.certFile, /expired/, "prod");
  });

  describe("bad files: one line naming the file", () => {
    test("a missing file", async () => {
      const missing = join(dir, "nope.pem");
      await refused(config(pki.server, { cert_file: missing }), missing, /cannot read .*ENOENT/);
    });

    test("a certificate file without PEM", async () => {
      const f = join(dir, "garbage.pem");
      await writeFile(f, "hello\n");
      await refused(config(pki.server, { cert_file: f }), f, /no PEM certificate/);
    });

    test("a certificate block that does not parse", async () => {
      const f = join(dir, "corrupt.pem");
      await writeFile(f, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
      await refused(config(pki.server, { cert_file: f }), f, /certificate 1 does not parse/);
    });

    test("a key file holding a certificate", async () => {
      await refused(config(pki.server, { key_file: pki.ca.certFile }), pki.ca.certFile, /no PEM private key/);
    });

    test("a key that does not match the certificate", async () => {
      const f = join(dir, "other.key");
      await copyFile(pki.client.keyFile, f);
      await refused(
        config(pki.server, { key_file: f }),
        f,
        /does not match the certificate in `.*server-1001\.pem`/,
      );
    });

    test("an encrypted key", async () => {
      const f = join(dir, "encrypted.key");
      const key = createPrivateKey(await readFile(pki.server.keyFile));
      await writeFile(
        f,
        key.export({ format: "pem", type: "pkcs8", cipher: "aes-256-cbc", passphrase: "x" }),
      );
      await refused(config(pki.server, { key_file: f }), f, /encrypted/);
    });

    test("a client CA bundle without PEM", async () => {
      const f = join(dir, "empty-ca.pem");
      await writeFile(f, "");
      const mtls = { enabled: true, client_ca_file: f, allowed_sans: [] };
      await refused(config(pki.server, { mtls }), f, /no PEM certificate/);
    });

    test("messages name the file by its path, which the CLI prints first", async () => {
      const missing = join(dir, "absent.key");
      const err = await loadTls(config(pki.server, { key_file: missing }), "dev").catch((e: AssayError) => e);
      assert.ok(err instanceof AssayError);
      assert.match(
        formatDiagnostic(err.diagnostics[0] ?? err),
        new RegExp(`${basename(missing)}: cannot read`),
      );
    });
  });
});

describe("DEFAULT_CIPHERS", () => {
  test("every suite is ECDHE with an AEAD (AES-GCM or ChaCha20-Poly1305), as OpenSSL reads the list", async () => {
    const { stdout } = await promisify(execFile)(OPENSSL, ["ciphers", "-v", "-tls1_2", DEFAULT_CIPHERS]);
    // TLS 1.3 suites are listed too; they are Node's defaults, all AEAD, and not ours to pick.
    const rows = stdout
      .trim()
      .split("\n")
      .filter((r) => !/\bTLSv1\.3\b/.test(r));
    assert.equal(rows.length, DEFAULT_CIPHERS.split(":").length, stdout);
    for (const row of rows) {
      assert.match(row, /\bKx=ECDH\b/, row);
      assert.match(row, /\bEnc=(AESGCM|CHACHA20\/POLY1305)\(/, row);
      assert.match(row, /\bMac=AEAD\b/, row);
    }
  });
});
