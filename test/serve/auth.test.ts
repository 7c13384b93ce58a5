import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type CryptoKey, exportSPKI, importJWK, type JWK, jwtVerify } from "jose";
import { type AuthResult, createAuthenticator } from "../../src/serve/auth/authenticator.js";
import type { AuthConfig, Permission } from "../../src/serve/config-types.js";
import { createServeMetrics } from "../../src/serve/metrics.js";
import { idpAuthConfig, memoryLog, sample, startIdp, type TestIdp, testClock } from "./fixtures-idp.js";

const ALL = "assay.verify assay.read assay.compile";
const INVALID_TOKEN = /^Bearer realm="assay", error="invalid_token", error_description="[^"\\]+"$/;

let idp: TestIdp;
const log = memoryLog();
const issued: string[] = [];

before(async () => {
  idp = await startIdp();
});
after(async () => {
  await idp.close();
  // Whatever happened above, no token reached a log line.
  for (const token of issued) for (const line of log.lines) assert.ok(!line.includes(token));
});

/** A started authenticator on fresh metrics, against the provider unless `cfg` says otherwise. */
async function authenticator(cfg: Partial<AuthConfig> = {}, profile: "dev" | "prod" = "dev") {
  const metrics = createServeMetrics("test");
  const clock = testClock();
  const auth = createAuthenticator(idpAuthConfig(idp, cfg), profile, metrics, { now: clock.now, log });
  await auth.start();
  return { auth, metrics, clock };
}

function bearer(token: string): string {
  issued.push(token);
  return `Bearer ${token}`;
}

function assertRefused(
  r: AuthResult,
  status: number,
  reason: string,
): asserts r is Extract<AuthResult, { ok: false }> {
  assert.equal(r.ok, false, `expected ${reason}, got success`);
  if (r.ok) return;
  assert.equal(r.reason, reason);
  assert.equal(r.status, status);
}

describe("401: every way a bearer token fails", () => {
  const now = () => Math.floor(Date.now() / 1000);
  const cases: { name: string; header: () => Promise<string | undefined>; reason: string }[] = [
    { name: "no header", header: async () => undefined, reason: "missing" },
    { name: "an empty header", header: async () => "  ", reason: "missing" },
    { name: "another scheme", header: async () => "Basic YWdlbnQ6c2VjcmV0", reason: "malformed" },
    { name: "Bearer without a token", header: async () => "Bearer", reason: "malformed" },
    { name: "a token with a space", header: async () => "Bearer abc def", reason: "malformed" },
    { name: "an opaque token", header: async () => bearer("opaque-token-123"), reason: "malformed" },
    { name: "two segments", header: async () => bearer("eyJhbGciOiJSUzI1NiJ9.e30"), reason: "malformed" },
    { name: "three segments of garbage", header: async () => bearer("aaaa.bbbb.cccc"), reason: "malformed" },
    {
      name: "expired beyond the clock skew",
      header: async () => bearer(await idp.sign(ALL, { claims: { exp: now() - 120 } })),
      reason: "expired",
    },
    {
      name: "not valid for another two minutes",
      header: async () => bearer(await idp.sign(ALL, { claims: { nbf: now() + 120 } })),
      reason: "not_yet_valid",
    },
    {
      name: "issued a day in the future",
      header: async () => bearer(await idp.sign(ALL, { claims: { iat: now() + 86_400 } })),
      reason: "not_yet_valid",
    },
    {
      name: "for another audience",
      header: async () => bearer(await idp.token(ALL, { audience: "billing-api" })),
      reason: "wrong_audience",
    },
    {
      name: "from another issuer",
      header: async () => bearer(await idp.sign(ALL, { claims: { iss: "https://idp.evil.example" } })),
      reason: "wrong_issuer",
    },
    {
      name: "signed by a key the provider never published, under its kid",
      header: async () => bearer(await idp.forge.foreignKey(ALL)),
      reason: "bad_signature",
    },
    {
      name: "a payload changed after signing",
      header: async () => {
        const [h, , s] = (await idp.token("assay.read")).split(".");
        const payload = Buffer.from(
          JSON.stringify({ iss: idp.issuer, aud: idp.audience, sub: "x", exp: now() + 60, scope: ALL }),
        ).toString("base64url");
        return bearer(`${h}.${payload}.${s}`);
      },
      reason: "bad_signature",
    },
    {
      name: "HS256 keyed with the provider's public key",
      header: async () => bearer(await idp.forge.hs256(ALL)),
      reason: "bad_algorithm",
    },
    { name: "alg none", header: async () => bearer(idp.forge.none(ALL)), reason: "bad_algorithm" },
    {
      name: "no exp",
      header: async () => bearer(await idp.sign(ALL, { claims: { exp: undefined } })),
      reason: "malformed",
    },
    {
      name: "no subject and no client",
      header: async () => bearer(await idp.sign(ALL, { claims: { sub: undefined, client_id: undefined } })),
      reason: "malformed",
    },
  ];

  for (const c of cases) {
    test(`${c.name}: 401 ${c.reason}`, async () => {
      const { auth, metrics } = await authenticator();
      const header = await c.header();
      const r = await auth.authenticate(header, "verify");
      assertRefused(r, 401, c.reason);
      if (c.reason === "missing") assert.equal(r.wwwAuthenticate, 'Bearer realm="assay"');
      else assert.match(r.wwwAuthenticate, INVALID_TOKEN);
      const token = header?.replace(/^Bearer /, "") ?? "";
      if (token.length > 8) {
        assert.ok(!r.message.includes(token) && !r.wwwAuthenticate.includes(token), "the token leaked");
      }
      assert.equal(await sample(metrics, "assay_auth_failures_total", `reason="${c.reason}"`), 1);
      auth.close();
    });
  }

  test("an unknown kid is refused after one refetch that does not bring it: 401 unknown_kid", async () => {
    const { auth, metrics, clock } = await authenticator();
    clock.advance(31);
    const before = idp.hits.jwks;
    const r = await auth.authenticate(bearer(await idp.forge.foreignKey(ALL, "kid-nobody-knows")), "read");
    assertRefused(r, 401, "unknown_kid");
    assert.match(r.wwwAuthenticate, INVALID_TOKEN);
    assert.equal(idp.hits.jwks, before + 1, "one refetch");
    assert.equal(await sample(metrics, "assay_auth_failures_total", 'reason="unknown_kid"'), 1);
    auth.close();
  });

  test("the HS256 forgery is a real one: a verifier that let HS256 through would accept it", async () => {
    const forged = await idp.forge.hs256(ALL);
    // The attacker's secret: the public key as published, in PEM.
    const { keys } = (await (await fetch(idp.jwksUri)).json()) as { keys: JWK[] };
    const published = keys.find((k) => k.kid === idp.kid);
    assert.ok(published);
    const pem = await exportSPKI((await importJWK(published, "RS256", { extractable: true })) as CryptoKey);
    const { payload } = await jwtVerify(forged, new TextEncoder().encode(pem), { algorithms: ["HS256"] });
    assert.equal(payload.iss, idp.issuer);
  });

  test("HS* and none in the configured algorithms are dropped, not trusted", async () => {
    const { auth } = await authenticator({ algorithms: ["RS256", "HS256", "none"] });
    assertRefused(
      await auth.authenticate(bearer(await idp.forge.hs256(ALL)), "verify"),
      401,
      "bad_algorithm",
    );
    assertRefused(await auth.authenticate(bearer(idp.forge.none(ALL)), "verify"), 401, "bad_algorithm");
    assert.equal((await auth.authenticate(bearer(await idp.token(ALL)), "verify")).ok, true);
    auth.close();
  });

  test("an algorithm left out of the config is refused even with a published key", async () => {
    const { auth } = await authenticator({ algorithms: ["ES256"] });
    assertRefused(await auth.authenticate(bearer(await idp.token(ALL)), "verify"), 401, "bad_algorithm");
    auth.close();
  });

  test("the clock skew is tolerated on both sides, and only the skew", async () => {
    const { auth } = await authenticator({ clock_skew_seconds: 30 });
    const late = await idp.sign(ALL, { claims: { exp: now() - 10 } });
    const early = await idp.sign(ALL, { claims: { nbf: now() + 10 } });
    assert.equal((await auth.authenticate(bearer(late), "verify")).ok, true);
    assert.equal((await auth.authenticate(bearer(early), "verify")).ok, true);
    const strict = await authenticator({ clock_skew_seconds: 0 });
    assertRefused(await strict.auth.authenticate(bearer(late), "verify"), 401, "expired");
    assertRefused(await strict.auth.authenticate(bearer(early), "verify"), 401, "not_yet_valid");
    auth.close();
    strict.auth.close();
  });
});

describe("403 and success: scopes", () => {
  test("a valid token without the route's scope: 403 insufficient_scope naming the scope", async () => {
    const { auth, metrics } = await authenticator();
    const r = await auth.authenticate(bearer(await idp.token("assay.read")), "verify");
    assertRefused(r, 403, "insufficient_scope");
    assert.equal(
      r.wwwAuthenticate,
      'Bearer realm="assay", error="insufficient_scope", error_description="the token lacks the scope `assay.verify`", scope="assay.verify"',
    );
    assert.equal(await sample(metrics, "assay_auth_failures_total", 'reason="insufficient_scope"'), 1);
    auth.close();
  });

  test("each permission passes with its own scope and only with it (client-credentials tokens)", async () => {
    const { auth } = await authenticator();
    const scopes: Record<Permission, string> = {
      verify: "assay.verify",
      read: "assay.read",
      compile: "assay.compile",
    };
    for (const [perm, scope] of Object.entries(scopes) as [Permission, string][]) {
      const token = bearer(await idp.token(scope, { clientId: `client-${perm}` }));
      for (const need of Object.keys(scopes) as Permission[]) {
        const r = await auth.authenticate(token, need);
        if (need === perm) {
          assert.deepEqual(r, {
            ok: true,
            subject: `client-${perm}`,
            client_id: `client-${perm}`,
            scopes: [scope],
          });
        } else {
          assertRefused(r, 403, "insufficient_scope");
        }
      }
    }
    auth.close();
  });

  test("a custom scope mapping, scopes in `scp` (array or string), an audience list", async () => {
    const { auth } = await authenticator({
      scopes: { verify: "api://assay/Decide", read: "policies:read", compile: "policies:write" },
    });
    const arr = bearer(
      await idp.sign(undefined, {
        claims: { scp: ["policies:read", "other"] },
        audience: ["billing", idp.audience],
      }),
    );
    assert.equal((await auth.authenticate(arr, "read")).ok, true);
    const denied = await auth.authenticate(arr, "verify");
    assertRefused(denied, 403, "insufficient_scope");
    assert.match(denied.wwwAuthenticate, /scope="api:\/\/assay\/Decide"$/);
    const str = bearer(await idp.sign(undefined, { claims: { scp: "api://assay/Decide policies:write" } }));
    assert.equal((await auth.authenticate(str, "verify")).ok, true);
    assert.equal((await auth.authenticate(str, "compile")).ok, true);
    // The default names mean nothing under a custom mapping.
    assertRefused(await auth.authenticate(bearer(await idp.token(ALL)), "verify"), 403, "insufficient_scope");
    auth.close();
  });

  test("a token without sub speaks for its client", async () => {
    const { auth } = await authenticator();
    const r = await auth.authenticate(bearer(await idp.sign(ALL, { claims: { sub: undefined } })), "read");
    assert.deepEqual(r, { ok: true, subject: "agent-1", client_id: "agent-1", scopes: ALL.split(" ") });
    auth.close();
  });
});

describe("verified tokens are reused only while they would verify again", () => {
  test("a token checked once passes again until it expires, and a JWKS refresh checks it afresh", async () => {
    const { auth, clock } = await authenticator({ refetch_min_interval_seconds: 0 });
    const old = await idp.sign(ALL, { expiresIn: 60 });
    assert.equal((await auth.authenticate(bearer(old), "read")).ok, true);
    assert.equal((await auth.authenticate(bearer(old), "read")).ok, true);
    // Scopes are checked per request, cached or not.
    const reader = await idp.sign("assay.read", { expiresIn: 60 });
    assert.equal((await auth.authenticate(bearer(reader), "read")).ok, true);
    assertRefused(await auth.authenticate(bearer(reader), "compile"), 403, "insufficient_scope");
    // Past `exp` (and the skew) the cached check no longer counts.
    clock.advance(120);
    assertRefused(await auth.authenticate(bearer(old), "read"), 401, "expired");
    // A rotation: a token under the new key makes the service refetch; the old key is gone, so a
    // token verified under it before must fail now rather than pass from the cache.
    const { auth: auth2 } = await authenticator({ refetch_min_interval_seconds: 0 });
    const before = await idp.sign(ALL, { expiresIn: 600 });
    assert.equal((await auth2.authenticate(bearer(before), "read")).ok, true);
    await idp.rotate();
    assert.equal((await auth2.authenticate(bearer(await idp.sign(ALL)), "read")).ok, true);
    assertRefused(await auth2.authenticate(bearer(before), "read"), 401, "unknown_kid");
    auth.close();
    auth2.close();
  });
});

describe("a token verified before is answered without a promise", () => {
  test("the first check is jose's (a promise); the next ones are immediate, scopes and expiry included", async () => {
    const { auth, clock } = await authenticator();
    const token = bearer(await idp.sign("assay.read", { expiresIn: 60 }));
    const first = auth.authenticate(token, "read");
    assert.ok(first instanceof Promise, "an unseen token goes through the signature check");
    assert.equal((await first).ok, true);
    const again = auth.authenticate(token, "read");
    assert.ok(!(again instanceof Promise), "a verified token is answered at once");
    assert.deepEqual(again, { ok: true, subject: "agent-1", client_id: "agent-1", scopes: ["assay.read"] });
    // Other spellings of the header (scheme in lower case, spaces around the token) take the full
    // shape checks first, then the same cached answer.
    for (const header of [
      token.replace("Bearer ", "bearer "),
      `${token}  `,
      token.replace("Bearer ", "Bearer  "),
    ]) {
      const r = auth.authenticate(header, "read");
      assert.ok(!(r instanceof Promise));
      assert.equal(r.ok, true);
    }
    // A header that only starts like a known one is not taken for it.
    assertRefused(await auth.authenticate(`${token}x`, "read"), 401, "bad_signature");
    // The scope check still runs on the immediate path.
    const denied = auth.authenticate(token, "compile");
    assert.ok(!(denied instanceof Promise));
    assertRefused(denied, 403, "insufficient_scope");
    // Past `exp`, the cached answer no longer counts: jose checks again and refuses.
    clock.advance(120);
    const late = auth.authenticate(token, "read");
    assert.ok(late instanceof Promise);
    assertRefused(await late, 401, "expired");
    auth.close();
  });
});

describe("the dev token", () => {
  const dev = { issuer: undefined, audience: undefined, jwks_uri: undefined, dev_token: "dev-secret-0123" };

  test("dev profile, no issuer: the dev token has every permission, anything else is 401", async () => {
    const { auth, metrics } = await authenticator(dev, "dev");
    assert.equal(auth.ready(), true);
    for (const need of ["verify", "read", "compile"] as const) {
      assert.deepEqual(await auth.authenticate("Bearer dev-secret-0123", need), {
        ok: true,
        subject: "dev",
        scopes: ["assay.verify", "assay.read", "assay.compile"],
      });
    }
    assertRefused(await auth.authenticate("Bearer dev-secret-012", "read"), 401, "malformed");
    assertRefused(await auth.authenticate("Bearer dev-secret-01234", "read"), 401, "malformed");
    assertRefused(await auth.authenticate(bearer(await idp.token(ALL)), "read"), 401, "wrong_issuer");
    assertRefused(await auth.authenticate(undefined, "read"), 401, "missing");
    assert.equal(await sample(metrics, "assay_jwks_refresh_total", 'outcome="ok"'), 0, "no IdP, no fetch");
    auth.close();
  });

  test("prod profile: the dev token is refused even if the config carries one", async () => {
    const { auth } = await authenticator(dev, "prod");
    assertRefused(await auth.authenticate("Bearer dev-secret-0123", "read"), 401, "malformed");
    // A JWT-shaped dev token is checked as a JWT; prod fetches keys over https only, and this
    // provider is plain http, so it has no keys: refused all the same, never passed as the dev token.
    const jwtShaped = await authenticator({ dev_token: "aaaa.bbbb.cccc" }, "prod");
    assertRefused(await jwtShaped.auth.authenticate("Bearer aaaa.bbbb.cccc", "read"), 503, "idp_unavailable");
    auth.close();
    jwtShaped.auth.close();
  });

  test("dev profile with an issuer: both the dev token and the IdP's tokens pass", async () => {
    const { auth } = await authenticator({ dev_token: "dev-secret-0123" }, "dev");
    assert.equal((await auth.authenticate("Bearer dev-secret-0123", "compile")).ok, true);
    assert.equal((await auth.authenticate(bearer(await idp.token("assay.compile")), "compile")).ok, true);
    auth.close();
  });
});
