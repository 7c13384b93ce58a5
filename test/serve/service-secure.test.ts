import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { AssayError } from "../../src/lib/errors.js";
import { suiteTempDir } from "../temp-dir.js";
import { sample, startIdp, type TestIdp, testClock } from "./fixtures-idp.js";
import {
  clientCredentials,
  createTestPki,
  eventually,
  SecretMount,
  serverCert,
  type TestPki,
  tlsGet,
} from "./fixtures-pki.js";
import { ROOT, startFromYaml } from "./service-harness.js";

/**
 * The whole service as a production caller meets it: TLS with mTLS, OAuth2 tokens from a real
 * provider through the client-credentials flow, key rotation and an outage at the provider, and
 * a certificate rotated in a secret-style mount, all on 127.0.0.1.
 */
describe("assay serve over TLS with mTLS and OAuth2", () => {
  const dir = suiteTempDir("assay-serve-secure-");
  let pki: TestPki;
  let idp: TestIdp;
  let mount: SecretMount;
  const clock = testClock();
  let svc: Awaited<ReturnType<typeof startFromYaml>>;
  let port: number;
  let ca: string;
  let client: { cert: string; key: string };
  const body = JSON.stringify({
    policy: "mcp-baseline",
    call: { tool: "read_file", arguments: { path: "/workspace/a" } },
  });
  const verify = (headers: Record<string, string>, creds: Partial<{ cert: string; key: string }> = client) =>
    tlsGet(port, {
      ca,
      ...creds,
      method: "POST",
      path: "/v1/verify",
      headers: { "content-type": "application/json", ...headers },
      body,
    });

  before(async () => {
    pki = await createTestPki(dir);
    idp = await startIdp({ audience: "assay" });
    mount = await SecretMount.create(join(dir, "tls"), {
      "tls.crt": pki.server.certFile,
      "tls.key": pki.server.keyFile,
    });
    ca = readFileSync(pki.ca.certFile, "utf8");
    client = await clientCredentials(pki.client);
    svc = await startFromYaml(
      dir,
      [
        "profile: dev",
        "listen: 127.0.0.1:0",
        `policies: [${join(ROOT, "packs/mcp-baseline.yaml")}]`,
        "auth:",
        `  issuer: ${idp.issuer}`,
        "  audience: assay",
        "  cache_ttl_seconds: 60",
        "  refetch_min_interval_seconds: 0",
        "  fetch_retries: 1",
        "  fetch_timeout_ms: 500",
        "tls:",
        `  cert_file: ${mount.path("tls.crt")}`,
        `  key_file: ${mount.path("tls.key")}`,
        "  mtls:",
        "    enabled: true",
        `    client_ca_file: ${pki.ca.certFile}`,
        "    allowed_sans: ['URI:spiffe://example.org/agent']",
      ].join("\n"),
      { authOptions: { now: clock.now } },
    );
    port = Number(new URL(svc.url).port);
    assert.match(svc.url, /^https:/);
  });
  after(async () => {
    await svc?.close();
    await idp?.close();
  });

  test("a token from the client-credentials flow and an allowed client certificate: 200", async () => {
    const token = await idp.token("verify:run");
    const res = await verify({ authorization: `Bearer ${token}` });
    assert.equal(res.status, 200, JSON.stringify(res.body ?? res.error));
    assert.equal((res.body as { verdict: string }).verdict, "allow");
    assert.equal(res.serial, pki.server.serial);
    assert.equal(res.protocol, "TLSv1.3");
  });

  test("mTLS refuses with 403 and says why: no certificate, another CA, an expired one, a SAN not allowed", async () => {
    const token = await idp.token("verify:run");
    const auth = { authorization: `Bearer ${token}` };
    const cases: [Partial<{ cert: string; key: string }>, string][] = [
      [{}, "mtls_no_cert"],
      [await clientCredentials(pki.otherCaClient), "mtls_untrusted"],
      [await clientCredentials(pki.expiredClient), "mtls_untrusted"],
      [await clientCredentials(pki.strangerClient), "mtls_san"],
    ];
    for (const [creds, code] of cases) {
      const res = await verify(auth, creds);
      assert.equal(res.status, 403, code);
      assert.equal((res.body as { error: { code: string } }).error.code, code);
    }
    assert.ok((await sample(svc.metrics, "assay_auth_failures_total", 'reason="mtls_san"')) >= 1);
    // Probes need no client certificate (a kubelet has none).
    assert.equal((await tlsGet(port, { ca, path: "/healthz" })).status, 200);
  });

  test("OAuth2: 401 without a token or with a forged one, 403 without the scope", async () => {
    const none = await verify({});
    assert.equal(none.status, 401);
    const forged = await verify({ authorization: `Bearer ${await idp.forge.hs256("verify:run")}` });
    assert.equal(forged.status, 401);
    assert.equal((forged.body as { error: { code: string } }).error.code, "bad_algorithm");
    const reader = await idp.token("policy:read");
    const scoped = await verify({ authorization: `Bearer ${reader}` });
    assert.equal(scoped.status, 403);
    assert.equal((scoped.body as { error: { code: string } }).error.code, "insufficient_scope");
    const list = await tlsGet(port, {
      ca,
      ...client,
      path: "/v1/policies",
      headers: { authorization: `Bearer ${reader}` },
    });
    assert.equal(list.status, 200);
  });

  test("a key rotation at the provider needs no restart", async () => {
    await idp.rotate();
    const res = await verify({ authorization: `Bearer ${await idp.token("verify:run")}` });
    assert.equal(res.status, 200);
  });

  test("provider outage: with no valid key cached, 503 and not ready; recovery when it returns", async () => {
    const token = await idp.token("verify:run");
    await idp.stop();
    clock.advance(120); // past the 60 s key TTL
    const down = await verify({ authorization: `Bearer ${token}` });
    assert.equal(down.status, 503);
    assert.equal((down.body as { error: { code: string } }).error.code, "unavailable");
    const ready = await tlsGet(port, { ca, path: "/readyz" });
    assert.equal(ready.status, 503);
    assert.deepEqual((ready.body as { checks: { jwks: string } }).checks.jwks, "unavailable");
    assert.ok((await sample(svc.metrics, "assay_jwks_refresh_total", 'outcome="error"')) >= 1);
    await idp.restart();
    const back = await eventually(3000, "a 200 after the provider returned", async () => {
      const r = await verify({ authorization: `Bearer ${await idp.token("verify:run")}` });
      return r.status === 200 ? r : undefined;
    });
    assert.equal((back.body as { verdict: string }).verdict, "allow");
    assert.equal((await tlsGet(port, { ca, path: "/readyz" })).status, 200);
  });

  test("a certificate rotated in the mount is served to new connections without a restart", async () => {
    const next = await serverCert(pki.ca, dir, "2002");
    await mount.update({ "tls.crt": next.certFile, "tls.key": next.keyFile });
    const seen = await eventually(4000, "the new serial", async () => {
      const r = await tlsGet(port, { ca, path: "/healthz" });
      return r.serial === next.serial ? r : undefined;
    });
    assert.equal(seen.status, 200);
    assert.ok((await sample(svc.metrics, "assay_tls_reloads_total", 'outcome="ok"')) >= 1);
    // The expiry gauge follows the served certificate (the test PKI issues for two days).
    const expiry = await sample(svc.metrics, "assay_tls_certificate_expiry_timestamp_seconds");
    assert.ok(expiry > Date.now() / 1000 + 86_400 && expiry < Date.now() / 1000 + 3 * 86_400, String(expiry));
    const token = await idp.token("verify:run");
    assert.equal((await verify({ authorization: `Bearer ${token}` })).status, 200);
  });

  test("prod refuses to start with a self-signed server certificate", async () => {
    await assert.rejects(
      startFromYaml(
        dir,
        [
          "profile: prod",
          "listen: 127.0.0.1:0",
          `policies: [${join(ROOT, "packs/mcp-baseline.yaml")}]`,
          "auth: { issuer: 'https://idp.invalid', audience: assay }",
          `tls: { cert_file: ${pki.selfSigned.certFile}, key_file: ${pki.selfSigned.keyFile} }`,
        ].join("\n"),
      ),
      (err: unknown) =>
        err instanceof AssayError && err.code === "serve_tls_invalid" && /self-signed/.test(err.message),
    );
  });
});
