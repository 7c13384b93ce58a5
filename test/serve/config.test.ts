import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { AssayError } from "../../src/lib/errors.js";
import { loadServeConfig, parseListen } from "../../src/serve/config.js";
import { suiteTempDir } from "../temp-dir.js";
import { ROOT } from "./service-harness.js";

const dir = suiteTempDir("assay-serve-config-");
let n = 0;
function file(text: string): string {
  const p = join(dir, `c${n++}.yaml`);
  writeFileSync(p, text);
  return p;
}
async function fails(text: string, where: RegExp, message: RegExp): Promise<void> {
  const p = file(text);
  await assert.rejects(loadServeConfig(p), (err: unknown) => {
    assert.ok(err instanceof AssayError);
    assert.equal(err.code, "serve_config_invalid");
    assert.match(String(err.where), where);
    assert.match(err.message, message);
    return true;
  });
}

describe("serve config", () => {
  test("the shipped reference config and the dev example load, with defaults filled in", async () => {
    const prod = await loadServeConfig(join(ROOT, "config/serve.yaml"));
    assert.equal(prod.profile, "prod");
    assert.deepEqual(prod.listen, { host: "0.0.0.0", port: 8443 });
    assert.equal(prod.auth.issuer, "https://idp.example.com/realms/agents");
    assert.deepEqual(prod.auth.scopes, {
      verify: "verify:run",
      read: "policy:read",
      compile: "policy:compile",
    });
    assert.equal(prod.tls?.mtls?.enabled, true);
    assert.equal(prod.features.runtime_policy_load, false);
    const dev = await loadServeConfig(join(ROOT, "examples/serve/dev.yaml"), { listen: "127.0.0.1:9999" });
    assert.deepEqual(dev.listen, { host: "127.0.0.1", port: 9999 });
    assert.equal(dev.policies[0]?.packs[0], join(ROOT, "packs/mcp-baseline.yaml"));
    assert.equal(dev.limits.rate.max, 0);
    assert.equal(dev.auth.clock_skew_seconds, 30);
    // Loading packs at run time is on by default in dev only.
    assert.equal(dev.features.runtime_policy_load, true);
    assert.equal(dev.limits.max_policies, 256);
    const prodDefault = await loadServeConfig(
      file(
        "profile: prod\npolicies: [a.yaml]\nauth: { issuer: 'https://idp', audience: a }\ntls: { cert_file: c, key_file: k }\n",
      ),
    );
    assert.equal(prodDefault.features.runtime_policy_load, false);
  });

  test("a bad config names file:line:col and what is wrong", async () => {
    await fails(
      "profile: dev\npolicies: [a.yaml]\nauth: { dev_token: 0123456789abcdef }\nlisten: nowhere\n",
      /c\d+\.yaml:4:9$/,
      /listen/,
    );
    await fails(
      "profile: dev\npolicies: [a.yaml]\nauth: { dev_token: 0123456789abcdef }\nlog_levl: info\n",
      /:4:\d+$/,
      /unknown key `log_levl`; did you mean `log_level`\?/,
    );
    await fails(
      "profile: staging\npolicies: [a.yaml]\nauth: { dev_token: 0123456789abcdef }\n",
      /:1:\d+$/,
      /must be one of `dev`, `prod`/,
    );
    await fails("profile: dev\npolicies: []\nauth: { dev_token: 0123456789abcdef }\n", /:2:\d+$/, /policies/);
    await fails(
      "profile: dev\npolicies: [a.yaml]\nauth:\n  dev_token: short\n",
      /:4:\d+$/,
      /auth\.dev_token/,
    );
    await fails(
      "profile: dev\npolicies: [a.yaml]\nauth: { issuer: 'https://idp' }\n",
      /:3:\d+$/,
      /`audience` is required/,
    );
    await fails(
      "profile: dev\npolicies:\n  - packs: [a.yaml, b.yaml]\nauth: { dev_token: 0123456789abcdef }\n",
      /:3:\d+$/,
      /needs an `id`/,
    );
    await fails(
      "profile: dev\npolicies: [a.yaml]\nauth: { dev_token: 0123456789abcdef }\ntls: { cert_file: a, key_file: b, mtls: { enabled: true } }\n",
      /:4:\d+$/,
      /client_ca_file/,
    );
    await fails(
      "profile: dev\npolicies: [a.yaml]\nauth: missing-auth.yaml\n",
      /c\d+\.yaml:3:\d+$/,
      /cannot read auth config .*missing-auth\.yaml: ENOENT/,
    );
    await fails("profile: dev\npolicies: [a.yaml]\nauth: {}\n", /:3:\d+$/, /needs an `issuer`/);
    await fails(
      "profile: dev\npolicies: [a.yaml]\nauth: { issuer: 'https://idp', audience: a, scopes: { read: 'policy read' } }\n",
      /:3:\d+$/,
      /auth\.scopes\.read: must match pattern/,
    );
    await fails(
      "profile: dev\npolicies: [a.yaml, b.yaml]\nauth: { dev_token: 0123456789abcdef }\nlimits: { max_policies: 1 }\n",
      /:4:\d+$/,
      /more than max_policies allows/,
    );
    await fails("profile: dev\n  policies: [\n", /:\d+:\d+$/, /./);
  });

  test("prod refuses a dev token, a missing or plain-http issuer, and plain HTTP", async () => {
    const tls = "tls: { cert_file: c.pem, key_file: k.pem }\n";
    await fails(
      `profile: prod\npolicies: [a.yaml]\nauth: { dev_token: 0123456789abcdef }\n${tls}`,
      /:3:\d+$/,
      /real issuer/,
    );
    await fails(
      `profile: prod\npolicies: [a.yaml]\nauth: { issuer: 'https://idp', audience: a, dev_token: 0123456789abcdef }\n${tls}`,
      /:3:\d+$/,
      /`dev_token` is accepted only with profile dev/,
    );
    await fails(
      `profile: prod\npolicies: [a.yaml]\nauth: { issuer: 'http://idp', audience: a }\n${tls}`,
      /:3:\d+$/,
      /https `issuer`/,
    );
    await fails(
      "profile: prod\npolicies: [a.yaml]\nauth: { issuer: 'https://idp', audience: a }\n",
      /:1:\d+$/,
      /needs `tls`/,
    );
  });

  test("an auth.yaml beside the config is read, and its problems point into it", async () => {
    writeFileSync(
      join(dir, "auth-ok.yaml"),
      "issuer: https://idp.example\naudience: assay\nscopes: { verify: 'decide' }\n",
    );
    const c = await loadServeConfig(file("profile: dev\npolicies: [a.yaml]\nauth: auth-ok.yaml\n"));
    assert.deepEqual(c.auth.scopes, { verify: "decide", read: "policy:read", compile: "policy:compile" });
    writeFileSync(
      join(dir, "auth-bad.yaml"),
      "issuer: https://idp.example\naudience: assay\nalgorithms: [HS256]\n",
    );
    await fails(
      "profile: dev\npolicies: [a.yaml]\nauth: auth-bad.yaml\n",
      /auth-bad\.yaml:3:14$/,
      /algorithms\.0: must be one of/,
    );
    // A secret read with U+FFFD in place of a bad byte would not be the one its author wrote.
    writeFileSync(
      join(dir, "auth-latin1.yaml"),
      Buffer.concat([Buffer.from("dev_token: 0123456789abcde"), Buffer.from([0xe9]), Buffer.from("\n")]),
    );
    await fails(
      "profile: dev\npolicies: [a.yaml]\nauth: auth-latin1.yaml\n",
      /auth-latin1\.yaml:1:27$/,
      /^auth config is not UTF-8 text \(byte 0xE9 at offset 26\)$/,
    );
  });

  test("listen addresses", () => {
    assert.deepEqual(parseListen("127.0.0.1:8080"), { host: "127.0.0.1", port: 8080 });
    assert.deepEqual(parseListen("[::1]:0"), { host: "::1", port: 0 });
    assert.deepEqual(parseListen("localhost:65535"), { host: "localhost", port: 65535 });
    for (const bad of ["127.0.0.1", ":80", "host:65536", "a b:1", "[::1]"])
      assert.equal(parseListen(bad), undefined, bad);
  });
});
