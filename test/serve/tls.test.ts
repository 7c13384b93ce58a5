/**
 * `assay serve`'s TLS policy end to end: a bare HTTPS server with loadTls's options whose handler
 * answers with checkClientCertificate's result (fixtures-pki.ts `serveChecked`), called by real
 * TLS clients. Reloading is in tls-reload.test.ts.
 */
import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { Agent } from "node:https";
import { after, before, describe, test } from "node:test";
import type { TLSSocket } from "node:tls";
import type { TlsConfig } from "../../src/serve/config-types.js";
import { DEFAULT_CIPHERS } from "../../src/serve/tls/ciphers.js";
import { loadTls } from "../../src/serve/tls/load.js";
import { suiteTempDir } from "../temp-dir.js";
import {
  type CheckedServer,
  clientCredentials,
  createTestPki,
  serveChecked,
  type TestPki,
  type TlsGetOptions,
  tlsGet,
} from "./fixtures-pki.js";

const dir = suiteTempDir("assay-tls-");
let pki: TestPki;
let rootPem: string;
const servers: CheckedServer[] = [];
before(async () => {
  pki = await createTestPki(dir);
  rootPem = await readFile(pki.ca.certFile, "utf8");
});
after(() => {
  for (const s of servers) s.close();
});

function tlsConfig(more: Partial<TlsConfig> = {}): TlsConfig {
  return {
    cert_file: pki.server.certFile,
    key_file: pki.server.keyFile,
    min_version: "TLSv1.2",
    ciphers: DEFAULT_CIPHERS,
    reload: false,
    ...more,
  };
}

async function start(cfg: TlsConfig): Promise<CheckedServer> {
  const m = await loadTls(cfg, "prod");
  const s = await serveChecked(m.options, cfg.mtls);
  servers.push(s);
  return s;
}

type Check = { ok: boolean; reason?: string; message?: string; subject?: string; sans?: string[] };

const get = (port: number, opts: Partial<TlsGetOptions> = {}) => tlsGet(port, { ca: rootPem, ...opts });
const bodyOf = (r: { body?: unknown }) => r.body as Check | undefined;

describe("protocol versions and ciphers", () => {
  let s: CheckedServer;
  before(async () => {
    s = await start(tlsConfig());
  });

  test("TLS 1.3 is negotiated when the client can", async () => {
    const r = await get(s.port);
    assert.equal(r.status, 200, r.error);
    assert.equal(r.protocol, "TLSv1.3");
  });

  test("TLS 1.2 works, with a suite from the policy", async () => {
    const r = await get(s.port, { maxVersion: "TLSv1.2" });
    assert.equal(r.status, 200, r.error);
    assert.equal(r.protocol, "TLSv1.2");
    assert.ok(DEFAULT_CIPHERS.split(":").includes(r.cipher ?? ""), r.cipher);
  });

  test("a TLS 1.1 client is refused by the server", async () => {
    // SECLEVEL=0 lets this client offer 1.1 at all: the refusal must come from the server.
    const r = await get(s.port, {
      minVersion: "TLSv1.1",
      maxVersion: "TLSv1.1",
      ciphers: "DEFAULT@SECLEVEL=0",
    });
    assert.equal(r.status, undefined);
    assert.match(r.error ?? "", /protocol version|unsupported protocol/i);
    assert.ok(
      s.refused.some((m) => /unsupported protocol/i.test(m)),
      s.refused.join("; "),
    );
  });

  test("a TLS 1.2 suite outside the policy (CBC) is refused", async () => {
    const ciphers = "ECDHE-ECDSA-AES128-SHA256:ECDHE-ECDSA-AES256-SHA";
    const r = await get(s.port, { maxVersion: "TLSv1.2", ciphers });
    assert.equal(r.status, undefined);
    assert.match(r.error ?? "", /handshake failure/i);
    assert.ok(
      s.refused.some((m) => /no shared cipher/i.test(m)),
      s.refused.join("; "),
    );
  });

  test("min_version TLSv1.3: a 1.2 client is refused, 1.3 still works", async () => {
    const s13 = await start(tlsConfig({ min_version: "TLSv1.3" }));
    assert.equal((await get(s13.port)).protocol, "TLSv1.3");
    assert.equal((await get(s13.port, { maxVersion: "TLSv1.2" })).status, undefined);
  });
});

describe("mTLS: the handshake completes and the answer says why", () => {
  let s: CheckedServer;
  before(async () => {
    s = await start(
      tlsConfig({
        mtls: { enabled: true, client_ca_file: pki.ca.certFile, allowed_sans: ["DNS:agent.example"] },
      }),
    );
  });

  for (const maxVersion of ["TLSv1.2", "TLSv1.3"] as const) {
    test(`${maxVersion}: no certificate → 403 mtls_no_cert`, async () => {
      const r = await get(s.port, { maxVersion });
      assert.equal(r.status, 403, r.error);
      assert.equal(bodyOf(r)?.reason, "mtls_no_cert");
    });

    test(`${maxVersion}: a good certificate → 200 with its subject and names`, async () => {
      const r = await get(s.port, { maxVersion, ...(await clientCredentials(pki.client)) });
      assert.equal(r.status, 200, r.error ?? bodyOf(r)?.message);
      assert.equal(bodyOf(r)?.subject, "CN=agent");
      assert.deepEqual(bodyOf(r)?.sans, ["DNS:agent.example", "URI:spiffe://example.org/agent"]);
    });
  }

  test("a certificate from another CA → 403 mtls_untrusted, with OpenSSL's reason", async () => {
    const r = await get(s.port, await clientCredentials(pki.otherCaClient));
    assert.equal(r.status, 403, r.error);
    assert.equal(bodyOf(r)?.reason, "mtls_untrusted");
    assert.match(bodyOf(r)?.message ?? "", /`CN=agent`.*UNABLE_TO_(VERIFY_LEAF_SIGNATURE|GET_ISSUER_CERT)/);
  });

  test("an expired certificate from the right CA → 403 mtls_untrusted", async () => {
    const r = await get(s.port, await clientCredentials(pki.expiredClient));
    assert.equal(r.status, 403, r.error);
    assert.equal(bodyOf(r)?.reason, "mtls_untrusted");
    assert.match(bodyOf(r)?.message ?? "", /CERT_HAS_EXPIRED/);
  });

  test("a SAN outside the allow-list → 403 mtls_san, naming what it has", async () => {
    const r = await get(s.port, await clientCredentials(pki.strangerClient));
    assert.equal(r.status, 403, r.error);
    assert.equal(bodyOf(r)?.reason, "mtls_san");
    assert.match(bodyOf(r)?.message ?? "", /DNS:intruder\.example/);
  });

  test("a connection is checked once: later requests get the same answer; renegotiation is refused", async (t) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1, maxVersion: "TLSv1.2" });
    t.after(() => agent.destroy());
    const creds = await clientCredentials(pki.client);
    const first = await get(s.port, { agent, ...creds });
    const second = await get(s.port, { agent, ...creds });
    assert.equal(second.localPort, first.localPort, "not the same connection");
    assert.deepEqual([first.status, second.status], [200, 200]);
    const renegotiated = await new Promise<Error | null>((resolve) => {
      const socket = second.socket as TLSSocket;
      socket.once("close", () => resolve(new Error("closed")));
      socket.renegotiate({ rejectUnauthorized: false }, (err) => resolve(err));
    });
    assert.ok(renegotiated !== null, "the server accepted a renegotiation");
  });
});
