import { errors, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions, jwtVerify } from "jose";
import type { BearerFailureReason } from "./result.js";

export type VerifyOutcome = { ok: true; payload: JWTPayload } | { ok: false; reason: BearerFailureReason };

export interface VerifyOptions {
  readonly issuer: string;
  readonly audience: string;
  readonly algorithms: readonly string[];
  readonly clockSkewSeconds: number;
  /** Milliseconds since the epoch. */
  readonly now: number;
}

/** Which refusal a jose error stands for. Anything unexpected is a bad signature: refuse, never pass. */
export function reasonOf(err: unknown): BearerFailureReason {
  if (err instanceof errors.JWTExpired) return "expired";
  if (err instanceof errors.JWTClaimValidationFailed) {
    if (err.claim === "nbf") return "not_yet_valid";
    if (err.claim === "iss") return "wrong_issuer";
    if (err.claim === "aud") return "wrong_audience";
    // A missing `exp` or a claim of the wrong type.
    return "malformed";
  }
  if (err instanceof errors.JOSEAlgNotAllowed || err instanceof errors.JOSENotSupported)
    return "bad_algorithm";
  if (err instanceof errors.JWKSNoMatchingKey) return "unknown_kid";
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return "malformed";
  return "bad_signature";
}

/**
 * Verifies a compact JWT against a key set: signature with an allowed algorithm, then issuer,
 * audience, `exp` (required), `nbf` and `iat` (not in the future) with the clock skew. Never throws.
 */
export async function verifyJwt(
  token: string,
  keys: JWTVerifyGetKey,
  o: VerifyOptions,
): Promise<VerifyOutcome> {
  const options: JWTVerifyOptions = {
    issuer: o.issuer,
    audience: o.audience,
    algorithms: [...o.algorithms],
    clockTolerance: o.clockSkewSeconds,
    currentDate: new Date(o.now),
    requiredClaims: ["exp"],
  };
  let outcome: VerifyOutcome;
  try {
    const { payload } = await jwtVerify(token, keys, options);
    outcome = { ok: true, payload };
  } catch (err) {
    outcome =
      err instanceof errors.JWKSMultipleMatchingKeys
        ? await tryEach(token, err, options)
        : { ok: false, reason: reasonOf(err) };
  }
  return outcome.ok ? checkIssuedAt(outcome.payload, o) : outcome;
}

/**
 * jose checks `iat` only for a maximum token age; a token issued in the future (beyond the clock
 * skew) comes from a wrong clock or a forger's choice, and is refused like a future `nbf`.
 */
function checkIssuedAt(payload: JWTPayload, o: VerifyOptions): VerifyOutcome {
  if (payload.iat === undefined) return { ok: true, payload };
  if (typeof payload.iat !== "number" || !Number.isFinite(payload.iat))
    return { ok: false, reason: "malformed" };
  if (payload.iat > o.now / 1000 + o.clockSkewSeconds) return { ok: false, reason: "not_yet_valid" };
  return { ok: true, payload };
}

/**
 * A token without `kid` while several keys fit its algorithm: jose hands back the candidates and
 * leaves the choice to the caller (its documented pattern); the first whose signature verifies wins.
 */
async function tryEach(
  token: string,
  candidates: errors.JWKSMultipleMatchingKeys,
  options: JWTVerifyOptions,
): Promise<VerifyOutcome> {
  try {
    for await (const key of candidates) {
      try {
        const { payload } = await jwtVerify(token, key, options);
        return { ok: true, payload };
      } catch (err) {
        if (err instanceof errors.JWSSignatureVerificationFailed) continue;
        return { ok: false, reason: reasonOf(err) };
      }
    }
  } catch (err) {
    return { ok: false, reason: reasonOf(err) };
  }
  return { ok: false, reason: "bad_signature" };
}
