import type { JWTPayload } from "jose";
import type { AuthConfig, Permission, Profile } from "../config-types.js";
import type { ServeMetrics } from "../metrics.js";
import { looksLikeJwt, parseBearer } from "./bearer.js";
import { scopesOf, subjectOf } from "./claims.js";
import { devTokenCheck } from "./dev-token.js";
import { type AuthLogger, JwksCache, type KeySnapshot } from "./jwks-cache.js";
import { type AuthResult, type AuthSuccess, type BearerFailureReason, refuse } from "./result.js";
import { type VerifyOptions, type VerifyOutcome, verifyJwt } from "./verify-token.js";

export type { AuthLogger } from "./jwks-cache.js";
export type { AuthFailure, AuthResult, AuthSuccess } from "./result.js";

export interface Authenticator {
  /** Fetch the JWKS once at start (failure is not fatal: readiness stays false and requests get 503 until a fetch succeeds). */
  start(): Promise<void>;
  /**
   * Check an `Authorization` header value for a permission. Never throws or rejects. Counts
   * failures via metrics.authFailure(reason). The answer is immediate (no promise) when it needs no
   * signature check: a refusal of the header's shape, the dev token, or a token verified before.
   */
  authenticate(authorization: string | undefined, need: Permission): AuthResult | Promise<AuthResult>;
  /**
   * True when no IdP is configured (dev token only) or keys are in cache and fresh (age < cache_ttl)
   * or the last fetch succeeded. A call also starts a background refresh when keys are missing or
   * due (rate limited), so a replica taken out of rotation recovers without traffic.
   */
  ready(): boolean;
  /** Aborts a JWKS fetch in flight; call on shutdown. */
  close(): void;
}

export interface AuthenticatorOptions {
  /** Milliseconds since the epoch; Date.now by default. */
  now?: () => number;
  fetch?: typeof fetch;
  /** JWKS refreshes and failures; per-request refusals are the caller's to log. */
  log?: AuthLogger;
}

// Symmetric and unsigned algorithms are never acceptable for tokens verified with an IdP's
// public keys (RFC 8725 §3.1); the loader refuses them, this drops them again.
const FORBIDDEN_ALG = /^(none|HS\d+)$/i;

// Verified tokens kept: a few thousand clients' tokens of ~1 KiB each.
const VERIFIED_TOKENS = 4096;

/** A token whose signature and claims were checked, with what the checks found. */
interface Verified {
  /** The key set version it was verified with. */
  readonly version: number;
  readonly payload: JWTPayload;
  /** The answer when its scopes hold, made once (frozen: every request with the token shares it). */
  readonly granted: Readonly<AuthSuccess>;
}

/** The token's `exp`, `nbf` and `iat` still hold at `nowMs`, with the clock skew (as jose and verifyJwt check them). */
function stillValid(payload: JWTPayload, nowMs: number, skew: number): boolean {
  const t = nowMs / 1000;
  if (typeof payload.exp !== "number" || t >= payload.exp + skew) return false;
  if (typeof payload.nbf === "number" && t < payload.nbf - skew) return false;
  if (typeof payload.iat === "number" && payload.iat > t + skew) return false;
  return true;
}

/** The bearer-token authenticator of `assay serve`, for one auth config. */
export function createAuthenticator(
  cfg: AuthConfig,
  profile: Profile,
  metrics: ServeMetrics,
  opts: AuthenticatorOptions = {},
): Authenticator {
  const now = opts.now ?? Date.now;
  const algorithms = cfg.algorithms.filter((a) => !FORBIDDEN_ALG.test(a));
  const isDevToken = devTokenCheck(cfg.dev_token, profile);
  const devScopes = [...new Set(Object.values(cfg.scopes))];
  const issuer = cfg.issuer;
  const cache =
    issuer === undefined
      ? undefined
      : new JwksCache({ issuer, jwks_uri: cfg.jwks_uri, https_only: profile === "prod" }, cfg, {
          metrics,
          now,
          fetch: opts.fetch ?? globalThis.fetch,
          log: opts.log,
        });

  // Tokens whose signature and claims were checked, by the whole token string (signature
  // included): checking an RS256 signature with jose is about half of a request's CPU
  // (bench:serve), and a client sends the same token until it expires. A hit still needs the
  // same key set version (a JWKS refresh or rotation checks again), fresh keys (checked above it),
  // and time claims that still hold; scopes are checked per request. Failures are never kept.
  const verified = new Map<string, Verified>();
  const remember = (token: string, entry: Verified) => {
    verified.delete(token);
    verified.set(token, entry);
    if (verified.size > VERIFIED_TOKENS) verified.delete(verified.keys().next().value as string);
  };

  const fail = (reason: BearerFailureReason, o?: { detail?: string; scope?: string }) => {
    metrics.authFailure(reason);
    return refuse(reason, o);
  };

  /** A verified token's answer for one permission: its scopes decide. */
  const grant = (entry: Verified, need: Permission): AuthResult => {
    const needed = cfg.scopes[need];
    if (needed === undefined || !entry.granted.scopes.includes(needed)) {
      return fail("insufficient_scope", { detail: `the token lacks the scope \`${needed}\``, scope: needed });
    }
    return entry.granted;
  };

  const options = (): VerifyOptions => ({
    issuer: issuer as string,
    audience: cfg.audience as string,
    algorithms,
    clockSkewSeconds: cfg.clock_skew_seconds,
    now: now(),
  });

  /** The signature and claims checked by jose (and a key refetch when the keys are stale or lack the token's `kid`). */
  const verifyAndGrant = async (
    token: string,
    need: Permission,
    fresh: KeySnapshot | undefined,
  ): Promise<AuthResult> => {
    let keys = fresh;
    if (keys === undefined) {
      await cache?.refresh("expired");
      keys = cache?.fresh();
      if (keys === undefined) return fail("idp_unavailable");
    }
    let version = keys.version;
    let out: VerifyOutcome = await verifyJwt(token, keys.keys, options());
    if (!out.ok && out.reason === "unknown_kid") {
      // Key rotation: one refetch (rate limited, shared), then one more try if it brought new keys.
      await cache?.refresh("unknown_kid");
      const next = cache?.fresh();
      if (next !== undefined && next.version !== keys.version) {
        version = next.version;
        out = await verifyJwt(token, next.keys, options());
      }
    }
    if (!out.ok) return fail(out.reason);
    const who = subjectOf(out.payload);
    if (who === undefined)
      return fail("malformed", { detail: "the token names no subject (`sub`, `client_id`)" });
    const scopes = Object.freeze(scopesOf(out.payload));
    const granted: Readonly<AuthSuccess> = Object.freeze({ ok: true, ...who, scopes });
    const entry: Verified = { version, payload: out.payload, granted };
    remember(token, entry);
    return grant(entry, need);
  };

  /** The answer for a token verified before with the current keys whose time claims still hold, else undefined. */
  const known = (token: string, need: Permission, keys: KeySnapshot): AuthResult | undefined => {
    const hit = verified.get(token);
    if (hit === undefined || hit.version !== keys.version) return undefined;
    if (!stillValid(hit.payload, now(), cfg.clock_skew_seconds)) return undefined;
    return grant(hit, need);
  };

  // Synchronous when the token was verified before with the current keys (the common case: a
  // client reuses its token), so such a request costs no promise; otherwise jose's check.
  const checkJwt = (token: string, need: Permission): AuthResult | Promise<AuthResult> => {
    if (cache === undefined || issuer === undefined) {
      return fail("wrong_issuer", { detail: "no issuer is configured, only the dev token is accepted" });
    }
    // Without an audience, jose would skip the check: refuse instead of accepting any IdP token.
    if (cfg.audience === undefined) return fail("wrong_audience", { detail: "no audience is configured" });
    const keys = cache.fresh();
    if (keys !== undefined) {
      cache.maintain();
      const answer = known(token, need, keys);
      if (answer !== undefined) return answer;
    }
    return verifyAndGrant(token, need, keys);
  };

  /**
   * `Bearer <token>` exactly, with a token verified before: answered without the header's and the
   * token's shape checks (two regular expressions over a ~1 KiB header), since only a token that
   * passed them is ever kept. Anything else, undefined: the full path decides.
   */
  const knownHeader = (authorization: string | undefined, need: Permission): AuthResult | undefined => {
    if (cache === undefined || authorization === undefined || !authorization.startsWith("Bearer "))
      return undefined;
    const keys = cache.fresh();
    if (keys === undefined) return undefined;
    const answer = known(authorization.slice(7), need, keys);
    if (answer !== undefined) cache.maintain();
    return answer;
  };

  // INVARIANT: nothing in the checks throws; should it ever, refuse the request rather than crash or pass it.
  const uncheckable = () => fail("malformed", { detail: "the bearer token could not be checked" });

  return {
    async start() {
      await cache?.refresh("start");
    },
    authenticate(authorization, need) {
      try {
        const fast = knownHeader(authorization, need);
        if (fast !== undefined) return fast;
        const bearer = parseBearer(authorization);
        if (!bearer.ok) return fail(bearer.reason, { detail: bearer.detail });
        if (isDevToken?.(bearer.token)) return { ok: true, subject: "dev", scopes: devScopes };
        if (!looksLikeJwt(bearer.token))
          return fail("malformed", { detail: "the bearer token is not a JWT" });
        const result = checkJwt(bearer.token, need);
        return result instanceof Promise ? result.catch(uncheckable) : result;
      } catch {
        return uncheckable();
      }
    },
    ready() {
      if (cache === undefined) return true;
      cache.maintain();
      return cache.ready();
    },
    close() {
      cache?.close();
    },
  };
}
