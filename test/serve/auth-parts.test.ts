import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { errors } from "jose";
import { backoffMs } from "../../src/serve/auth/backoff.js";
import { looksLikeJwt, parseBearer } from "../../src/serve/auth/bearer.js";
import { scopesOf, subjectOf } from "../../src/serve/auth/claims.js";
import { devTokenCheck } from "../../src/serve/auth/dev-token.js";
import { discoveryUrl, jwksUriOf, signingKeys } from "../../src/serve/auth/jwks-fetch.js";
import { challenge, refuse } from "../../src/serve/auth/result.js";
import { reasonOf } from "../../src/serve/auth/verify-token.js";

describe("the Authorization header", () => {
  test("Bearer in any case, one or more spaces, a b64token", () => {
    assert.deepEqual(parseBearer("Bearer abc.def-_~+/="), { ok: true, token: "abc.def-_~+/=" });
    assert.deepEqual(parseBearer("bearer   tok"), { ok: true, token: "tok" });
    assert.deepEqual(parseBearer("BEARER tok "), { ok: true, token: "tok" });
  });

  test("what is missing and what is malformed", () => {
    const reasons = (h: string | undefined) => {
      const r = parseBearer(h);
      return r.ok ? "ok" : r.reason;
    };
    for (const h of [undefined, "", "   "]) assert.equal(reasons(h), "missing");
    for (const h of [
      "Bearer",
      "Bearer ",
      "Basic abc",
      "Bearerabc",
      "Bearer a b",
      'Bearer a"b',
      "Token abc",
    ]) {
      assert.equal(reasons(h), "malformed", h);
    }
    assert.equal(reasons(`Bearer ${"a".repeat(9000)}`), "malformed");
  });

  test("the token never appears in a detail", () => {
    const r = parseBearer("Bearer secret-token-value extra");
    assert.equal(r.ok, false);
    assert.ok(!JSON.stringify(r).includes("secret-token-value"));
  });

  test("a JWT's shape: three base64url parts, the signature may be empty", () => {
    assert.equal(looksLikeJwt("a.b.c"), true);
    assert.equal(looksLikeJwt("a.b."), true);
    for (const t of ["a.b", "a..c", ".b.c", "a.b.c.d", "a.b.c=", "a+b.c.d"])
      assert.equal(looksLikeJwt(t), false, t);
  });
});

describe("challenges (RFC 6750 §3)", () => {
  test("bare for a missing token and for 503, with an error code otherwise", () => {
    assert.equal(refuse("missing").wwwAuthenticate, 'Bearer realm="assay"');
    assert.equal(refuse("idp_unavailable").wwwAuthenticate, 'Bearer realm="assay"');
    assert.equal(refuse("idp_unavailable").status, 503);
    assert.equal(
      refuse("expired").wwwAuthenticate,
      'Bearer realm="assay", error="invalid_token", error_description="the token has expired (`exp`)"',
    );
    const scope = refuse("insufficient_scope", { scope: "assay.read" });
    assert.equal(scope.status, 403);
    assert.match(
      scope.wwwAuthenticate,
      /^Bearer realm="assay", error="insufficient_scope", .*, scope="assay.read"$/,
    );
  });

  test("quotes, backslashes and non-ASCII never break the header", () => {
    const h = challenge("malformed", 'bad "quoted" \\ thing \u00e9\n');
    assert.equal(h, 'Bearer realm="assay", error="invalid_token", error_description="bad quoted  thing "');
  });

  test("every 401 reason has status 401 and a description", () => {
    for (const reason of [
      "malformed",
      "expired",
      "not_yet_valid",
      "wrong_issuer",
      "wrong_audience",
      "bad_signature",
      "unknown_kid",
      "bad_algorithm",
    ] as const) {
      const r = refuse(reason);
      assert.equal(r.status, 401);
      assert.equal(r.reason, reason);
      assert.match(r.message, /^[a-z].*[^.]$/, "one lowercase line without a final period");
    }
  });
});

describe("claims", () => {
  test("scopes from `scope` (string) and `scp` (array or string), merged without duplicates", () => {
    assert.deepEqual(scopesOf({ scope: "a  b" }), ["a", "b"]);
    assert.deepEqual(scopesOf({ scp: ["a", "c", 3] }), ["a", "c"]);
    assert.deepEqual(scopesOf({ scope: "a b", scp: "b c" }), ["a", "b", "c"]);
    assert.deepEqual(scopesOf({ scope: 42 }), []);
    assert.deepEqual(scopesOf({}), []);
  });

  test("the subject: sub, else client_id, else azp", () => {
    assert.deepEqual(subjectOf({ sub: "s", client_id: "c" }), { subject: "s", client_id: "c" });
    assert.deepEqual(subjectOf({ sub: "s" }), { subject: "s" });
    assert.deepEqual(subjectOf({ client_id: "c" }), { subject: "c", client_id: "c" });
    assert.deepEqual(subjectOf({ azp: "z" }), { subject: "z", client_id: "z" });
    assert.equal(subjectOf({ sub: "" }), undefined);
    assert.equal(subjectOf({ sub: 5 as unknown as string }), undefined);
  });
});

describe("the dev token check", () => {
  test("only in the dev profile, only with a non-empty token, only the exact token", () => {
    assert.equal(devTokenCheck("t0ken", "prod"), undefined);
    assert.equal(devTokenCheck("", "dev"), undefined);
    assert.equal(devTokenCheck(undefined, "dev"), undefined);
    const check = devTokenCheck("t0ken", "dev");
    assert.ok(check);
    assert.equal(check("t0ken"), true);
    for (const c of ["t0ke", "t0ken ", "T0KEN", "", "t0ken".repeat(100)]) assert.equal(check(c), false, c);
  });
});

describe("fetching keys", () => {
  test("backoff doubles from 100 ms and stops growing at 2 s", () => {
    assert.deepEqual([1, 2, 3, 4, 5, 6, 10].map(backoffMs), [100, 200, 400, 800, 1600, 2000, 2000]);
  });

  test("the discovery URL ignores a trailing slash of the issuer", () => {
    assert.equal(
      discoveryUrl("https://idp.example/"),
      "https://idp.example/.well-known/openid-configuration",
    );
    assert.equal(
      discoveryUrl("https://idp.example/t1"),
      "https://idp.example/t1/.well-known/openid-configuration",
    );
  });

  test("a discovery document must speak for the issuer and name an http(s) jwks_uri", () => {
    const iss = "https://idp.example";
    assert.equal(jwksUriOf({ issuer: iss, jwks_uri: `${iss}/keys` }, iss, "d"), `${iss}/keys`);
    assert.throws(
      () => jwksUriOf({ issuer: "https://evil.example", jwks_uri: `${iss}/keys` }, iss, "d"),
      /issuer/,
    );
    assert.throws(() => jwksUriOf({ issuer: iss }, iss, "d"), /jwks_uri/);
    assert.throws(() => jwksUriOf({ issuer: iss, jwks_uri: "file:///etc/keys" }, iss, "d"), /jwks_uri/);
    assert.throws(() => jwksUriOf("nope", iss, "d"), /issuer/);
  });

  test("only public asymmetric signing keys are kept", () => {
    const keys = [
      { kty: "RSA", kid: "rsa", n: "x", e: "AQAB" },
      { kty: "EC", kid: "ec", crv: "P-256", x: "x", y: "y", use: "sig" },
      { kty: "oct", kid: "hmac", k: "c2VjcmV0" },
      { kty: "RSA", kid: "enc", n: "x", e: "AQAB", use: "enc" },
      { kty: "RSA", kid: "private", n: "x", e: "AQAB", d: "x" },
      "junk",
      null,
    ];
    assert.deepEqual(
      signingKeys({ keys }, "j").keys.map((k) => k.kid),
      ["rsa", "ec"],
    );
    assert.deepEqual(signingKeys({ keys: [] }, "j"), { keys: [] });
    assert.throws(() => signingKeys({ kty: "RSA" }, "j"), /no `keys` array/);
    assert.throws(() => signingKeys(null, "j"), /no `keys` array/);
  });
});

describe("jose errors to reasons", () => {
  test("each error class its reason; anything else is a bad signature", () => {
    const p = {};
    const cases: [unknown, string][] = [
      [new errors.JWTExpired("x", p, "exp"), "expired"],
      [new errors.JWTClaimValidationFailed("x", p, "nbf"), "not_yet_valid"],
      [new errors.JWTClaimValidationFailed("x", p, "iss"), "wrong_issuer"],
      [new errors.JWTClaimValidationFailed("x", p, "aud"), "wrong_audience"],
      [new errors.JWTClaimValidationFailed("x", p, "exp", "missing"), "malformed"],
      [new errors.JOSEAlgNotAllowed("x"), "bad_algorithm"],
      [new errors.JOSENotSupported("x"), "bad_algorithm"],
      [new errors.JWKSNoMatchingKey(), "unknown_kid"],
      [new errors.JWSInvalid("x"), "malformed"],
      [new errors.JWTInvalid("x"), "malformed"],
      [new errors.JWSSignatureVerificationFailed(), "bad_signature"],
      [new TypeError("RS256 requires key modulusLength to be 2048 bits or larger"), "bad_signature"],
    ];
    for (const [err, reason] of cases) assert.equal(reasonOf(err), reason, String(err));
  });
});
