import assert from "node:assert/strict";
import { test } from "node:test";
import { createAuthenticator } from "../../src/serve/auth/authenticator.js";
import type { AuthConfig } from "../../src/serve/config-types.js";
import { createServeMetrics } from "../../src/serve/metrics.js";

const cfg: AuthConfig = {
  issuer: "https://idp.example",
  audience: "assay",
  algorithms: ["RS256"],
  clock_skew_seconds: 30,
  cache_ttl_seconds: 600,
  refetch_min_interval_seconds: 0,
  fetch_timeout_ms: 500,
  fetch_retries: 1,
  scopes: { verify: "verify:run", read: "policy:read", compile: "policy:compile" },
};

/** A fetch that answers from a table and records what was asked. */
function fakeIdp(answers: Record<string, { body: unknown; url?: string }>) {
  const asked: string[] = [];
  const fetch = (async (input: string | URL | Request) => {
    const url = String(input);
    asked.push(url);
    const a = answers[url];
    if (a === undefined) throw new Error(`unexpected fetch ${url}`);
    const res = new Response(JSON.stringify(a.body), { headers: { "content-type": "application/json" } });
    Object.defineProperty(res, "url", { value: a.url ?? url });
    return res;
  }) as typeof globalThis.fetch;
  return { fetch, asked };
}

const jwt = "eyJhbGciOiJSUzI1NiIsImtpZCI6ImsxIn0.eyJzdWIiOiJhIn0.c2ln";

test("prod: a discovery document naming an http jwks_uri is refused; nothing is fetched over http", async () => {
  const idp = fakeIdp({
    "https://idp.example/.well-known/openid-configuration": {
      body: { issuer: "https://idp.example", jwks_uri: "http://keys.example/jwks" },
    },
    "http://keys.example/jwks": { body: { keys: [] } },
  });
  const auth = createAuthenticator(cfg, "prod", createServeMetrics("t"), { fetch: idp.fetch });
  await auth.start();
  assert.equal(auth.ready(), false);
  const r = await auth.authenticate(`Bearer ${jwt}`, "read");
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.status, 503);
  assert.ok(!idp.asked.includes("http://keys.example/jwks"), idp.asked.join(" "));
  auth.close();
});

test("prod: a key set reached through a redirect to http is refused; dev accepts it", async () => {
  const answers = {
    "https://idp.example/jwks": { body: { keys: [] }, url: "http://idp.example/jwks" },
  };
  const prod = createAuthenticator(
    { ...cfg, jwks_uri: "https://idp.example/jwks" },
    "prod",
    createServeMetrics("t"),
    {
      fetch: fakeIdp(answers).fetch,
    },
  );
  await prod.start();
  assert.equal(prod.ready(), false);
  prod.close();
  const dev = createAuthenticator(
    { ...cfg, jwks_uri: "https://idp.example/jwks" },
    "dev",
    createServeMetrics("t"),
    {
      fetch: fakeIdp(answers).fetch,
    },
  );
  await dev.start();
  assert.equal(dev.ready(), true);
  dev.close();
});
