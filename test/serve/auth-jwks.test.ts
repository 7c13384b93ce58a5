import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { after, before, beforeEach, describe, test } from "node:test";
import { type AuthResult, createAuthenticator } from "../../src/serve/auth/authenticator.js";
import type { AuthConfig } from "../../src/serve/config-types.js";
import { createServeMetrics } from "../../src/serve/metrics.js";
import {
  idpAuthConfig,
  memoryLog,
  sample,
  startIdp,
  type TestIdp,
  testClock,
  until,
} from "./fixtures-idp.js";

const SCOPE = "assay.verify";
// Each test talks to the provider: a fetch that never times out must fail the test, not hang it.
const LIMIT = { timeout: 5000 };

let idp: TestIdp;
before(async () => {
  idp = await startIdp();
});
beforeEach(async () => {
  idp.fault("none");
  await idp.restart();
});
after(async () => {
  await idp.close();
});

function setup(cfg: Partial<AuthConfig> = {}) {
  const metrics = createServeMetrics("test");
  const clock = testClock();
  const log = memoryLog();
  const auth = createAuthenticator(idpAuthConfig(idp, cfg), "dev", metrics, { now: clock.now, log });
  const check = async (token: string) => auth.authenticate(`Bearer ${token}`, "verify");
  return { auth, metrics, clock, log, check };
}

function reasonOf(r: AuthResult): string {
  return r.ok ? "ok" : `${r.status} ${r.reason}`;
}

describe("key rotation", () => {
  test("a new key is fetched once on its first token; the old kid is then gone", LIMIT, async () => {
    const { auth, clock, check } = setup({ refetch_min_interval_seconds: 30 });
    await auth.start();
    const oldToken = await idp.token(SCOPE);
    assert.equal(reasonOf(await check(oldToken)), "ok");
    await idp.rotate();
    const newToken = await idp.token(SCOPE);
    // The cached keys still verify the old token: nothing was refetched.
    const base = idp.hits.jwks;
    assert.equal(reasonOf(await check(oldToken)), "ok");
    clock.advance(31);
    assert.equal(reasonOf(await check(newToken)), "ok");
    assert.equal(idp.hits.jwks, base + 1, "one refetch for the new kid");
    assert.equal(reasonOf(await check(newToken)), "ok");
    // The old key left the set; its refetch is rate limited, so no second fetch.
    assert.equal(reasonOf(await check(oldToken)), "401 unknown_kid");
    assert.equal(idp.hits.jwks, base + 1);
    auth.close();
  });

  test("a rotation inside the refetch interval waits for the interval", LIMIT, async () => {
    const { auth, clock, check } = setup({ refetch_min_interval_seconds: 30 });
    await auth.start();
    await idp.rotate();
    const token = await idp.token(SCOPE);
    const base = idp.hits.jwks;
    clock.advance(10);
    assert.equal(reasonOf(await check(token)), "401 unknown_kid");
    assert.equal(idp.hits.jwks, base);
    clock.advance(20);
    assert.equal(reasonOf(await check(token)), "ok");
    assert.equal(idp.hits.jwks, base + 1);
    auth.close();
  });

  test("concurrent requests with a new kid share one fetch", LIMIT, async () => {
    const { auth, clock, check } = setup();
    await auth.start();
    await idp.rotate();
    const token = await idp.token(SCOPE);
    clock.advance(31);
    const base = idp.hits.jwks;
    const results = await Promise.all(Array.from({ length: 50 }, () => check(token)));
    assert.deepEqual(new Set(results.map(reasonOf)), new Set(["ok"]));
    assert.equal(idp.hits.jwks, base + 1);
    auth.close();
  });

  test("random kids cause at most one fetch per refetch interval", LIMIT, async () => {
    const { auth, clock, check, metrics } = setup({ refetch_min_interval_seconds: 30 });
    await auth.start();
    // Signed by the provider's key, under kids it never published.
    const forged = await Promise.all(
      Array.from({ length: 20 }, () => idp.sign(SCOPE, { header: { kid: randomUUID() } })),
    );
    const base = idp.hits.jwks;
    for (let window = 1; window <= 3; window++) {
      clock.advance(30);
      // A burst at once, then one by one across the rest of the interval.
      const burst = await Promise.all(forged.map(check));
      assert.ok(burst.every((r) => reasonOf(r) === "401 unknown_kid"));
      for (const t of forged) {
        clock.advance(1);
        assert.equal(reasonOf(await check(t)), "401 unknown_kid");
      }
      assert.equal(idp.hits.jwks, base + window, `window ${window}`);
    }
    assert.equal(await sample(metrics, "assay_auth_failures_total", 'reason="unknown_kid"'), 120);
    auth.close();
  });
});

describe("cache lifetime and discovery", () => {
  test("without jwks_uri the key set is found through discovery", LIMIT, async () => {
    const { auth, check } = setup({ jwks_uri: undefined });
    const d = idp.hits.discovery;
    await auth.start();
    assert.equal(idp.hits.discovery, d + 1);
    assert.equal(reasonOf(await check(await idp.token(SCOPE))), "ok");
    auth.close();
  });

  test("a discovery document for another issuer is not trusted", LIMIT, async () => {
    // Same discovery URL, but the document's `issuer` is not the configured one (OIDC Discovery §4.3).
    const { auth, check, log } = setup({ jwks_uri: undefined, issuer: `${idp.issuer}/` });
    await auth.start();
    assert.equal(auth.ready(), false);
    assert.equal(reasonOf(await check(await idp.token(SCOPE))), "503 idp_unavailable");
    assert.ok(log.lines.some((l) => l.startsWith("jwks fetch failed") && l.includes("issuer")));
    auth.close();
  });

  test("keys are renewed ahead of their TTL in the background, then on expiry", LIMIT, async () => {
    const { auth, clock, check, metrics, log } = setup({ cache_ttl_seconds: 60 });
    const refreshes = () => log.lines.filter((l) => l.startsWith("jwks refreshed")).length;
    await auth.start();
    const token = await idp.token(SCOPE);
    const base = idp.hits.jwks;
    clock.advance(30);
    assert.equal(reasonOf(await check(token)), "ok");
    assert.equal(idp.hits.jwks, base, "young keys are not refetched");
    clock.advance(20); // 50 s: past 3/4 of the TTL
    assert.equal(reasonOf(await check(token)), "ok");
    await until(() => refreshes() === 2);
    assert.equal(idp.hits.jwks, base + 1);
    assert.equal(await sample(metrics, "assay_jwks_refresh_total", 'outcome="ok"'), 2);
    clock.advance(61); // past the TTL of the renewed keys: this request waits for a refetch
    assert.equal(reasonOf(await check(token)), "ok");
    assert.equal(idp.hits.jwks, base + 2);
    auth.close();
  });

  test("no stale keys: past the TTL with the IdP down, 503 until it is back", LIMIT, async () => {
    const { auth, clock, check, log } = setup({ cache_ttl_seconds: 60, refetch_min_interval_seconds: 10 });
    await auth.start();
    const token = await idp.token(SCOPE);
    await idp.stop();
    clock.advance(59);
    assert.equal(reasonOf(await check(token)), "ok", "fresh keys keep working while the IdP is down");
    await until(() =>
      log.lines.some((l) => l.startsWith("jwks refresh failed: verifying with the cached keys")),
    );
    assert.equal(auth.ready(), true);
    clock.advance(2);
    assert.equal(reasonOf(await check(token)), "503 idp_unavailable");
    assert.equal(auth.ready(), false);
    await idp.restart();
    // Within the interval after a failure, nothing is fetched: still 503.
    assert.equal(reasonOf(await check(token)), "503 idp_unavailable");
    clock.advance(10);
    assert.equal(reasonOf(await check(token)), "ok");
    assert.equal(auth.ready(), true);
    auth.close();
  });
});

describe("IdP outage and recovery", () => {
  for (const [name, breakIt] of [
    ["JWKS answers 500", async () => idp.fault("500")],
    ["JWKS answers invalid JSON", async () => idp.fault("invalid-json")],
    ["the IdP is stopped", async () => idp.stop()],
  ] as const) {
    test(`${name} with nothing cached: 503 idp_unavailable, not ready; then recovery`, LIMIT, async () => {
      const { auth, clock, check, metrics, log } = setup({
        fetch_retries: 2,
        refetch_min_interval_seconds: 5,
      });
      const token = await idp.token(SCOPE);
      await breakIt();
      await auth.start();
      assert.equal(auth.ready(), false);
      const r = await check(token);
      assert.equal(reasonOf(r), "503 idp_unavailable");
      assert.equal(r.ok ? "" : r.wwwAuthenticate, 'Bearer realm="assay"');
      assert.equal(await sample(metrics, "assay_jwks_refresh_total", 'outcome="error"'), 2);
      assert.equal(await sample(metrics, "assay_auth_failures_total", 'reason="idp_unavailable"'), 1);
      assert.equal(await sample(metrics, "assay_jwks_last_success_timestamp_seconds"), 0);
      assert.ok(log.lines.some((l) => l.startsWith("jwks refresh failed: no fresh keys")));
      idp.fault("none");
      await idp.restart();
      clock.advance(5);
      // The readiness probe alone brings the keys back: no traffic reaches a pod that is not ready.
      assert.equal(auth.ready(), false);
      await until(() => auth.ready());
      assert.equal(reasonOf(await check(token)), "ok");
      assert.equal(await sample(metrics, "assay_jwks_refresh_total", 'outcome="ok"'), 1);
      assert.ok((await sample(metrics, "assay_jwks_last_success_timestamp_seconds")) > 0);
      assert.equal(await sample(metrics, "assay_jwks_keys"), 1);
      auth.close();
    });
  }

  test("retries back off 100 ms then 200 ms, each attempt counted", LIMIT, async () => {
    const { auth, metrics } = setup({ fetch_retries: 3 });
    idp.fault("500", { count: 2 });
    const base = idp.hits.jwks;
    const t0 = performance.now();
    await auth.start();
    const took = performance.now() - t0;
    assert.ok(took >= 290, `took ${took} ms`);
    assert.ok(took < 1500, `took ${took} ms`);
    assert.equal(idp.hits.jwks, base + 3);
    assert.equal(await sample(metrics, "assay_jwks_refresh_total", 'outcome="error"'), 2);
    assert.equal(await sample(metrics, "assay_jwks_refresh_total", 'outcome="ok"'), 1);
    assert.equal(auth.ready(), true);
    auth.close();
  });

  test("a hanging JWKS endpoint times out after fetch_timeout_ms", LIMIT, async () => {
    const { auth, metrics, log } = setup({ fetch_timeout_ms: 150, fetch_retries: 1 });
    idp.fault("hang");
    const t0 = performance.now();
    await auth.start();
    const took = performance.now() - t0;
    assert.ok(took >= 140 && took < 1000, `took ${took} ms`);
    assert.equal(await sample(metrics, "assay_jwks_refresh_total", 'outcome="error"'), 1);
    assert.ok(log.lines.some((l) => l.includes("timed out after 150 ms")));
    assert.equal(auth.ready(), false);
    auth.close();
  });

  test("close() ends a refresh in its backoff without counting it as an IdP failure", LIMIT, async () => {
    const { auth, metrics, log } = setup({ fetch_retries: 5 });
    idp.fault("500");
    const started = auth.start();
    // The first attempt failed: the refresh now waits 100 ms, then 200, 400, 800.
    await until(() => log.lines.length > 0);
    const t0 = performance.now();
    auth.close();
    await started;
    assert.ok(performance.now() - t0 < 100);
    const hits = idp.hits.jwks;
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(idp.hits.jwks, hits, "no attempt after close");
    assert.equal(await sample(metrics, "assay_jwks_refresh_total", 'outcome="error"'), 1);
  });
});
