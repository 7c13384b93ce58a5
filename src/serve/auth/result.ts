import type { AuthFailureReason } from "../metrics.js";

/** The realm every challenge names (RFC 6750 §3). */
export const REALM = "assay";

/** The reasons a bearer token is refused here; the mtls_* reasons belong to the TLS layer. */
export type BearerFailureReason = Exclude<AuthFailureReason, `mtls_${string}`>;

export type AuthFailure = {
  ok: false;
  status: 401 | 403 | 503;
  reason: AuthFailureReason;
  message: string;
  wwwAuthenticate: string;
};

export type AuthSuccess = {
  readonly ok: true;
  readonly subject: string;
  readonly scopes: readonly string[];
  readonly client_id?: string;
};

export type AuthResult = AuthSuccess | AuthFailure;

// Messages name the failed check, never a value taken from the token: the token is a credential.
const MESSAGES: Readonly<Record<BearerFailureReason, string>> = {
  missing: "no bearer token in the `authorization` header",
  malformed: "the bearer token is not a JWT this service accepts",
  expired: "the token has expired (`exp`)",
  not_yet_valid: "the token is not valid yet (`nbf`)",
  wrong_issuer: "the token was not issued by the configured issuer (`iss`)",
  wrong_audience: "the token is not meant for this service (`aud`)",
  bad_signature: "the token's signature does not verify",
  unknown_kid: "the token's signing key (`kid`) is not in the issuer's key set",
  bad_algorithm: "the token's signing algorithm (`alg`) is not allowed",
  insufficient_scope: "the token lacks the scope this route needs",
  idp_unavailable: "the identity provider's signing keys are unavailable, try again later",
};

const STATUS: Readonly<Record<BearerFailureReason, 401 | 403 | 503>> = {
  missing: 401,
  malformed: 401,
  expired: 401,
  not_yet_valid: 401,
  wrong_issuer: 401,
  wrong_audience: 401,
  bad_signature: 401,
  unknown_kid: 401,
  bad_algorithm: 401,
  insufficient_scope: 403,
  idp_unavailable: 503,
};

/**
 * RFC 6750 §3: error_description allows %x20-21 / %x23-5B / %x5D-7E only, so quotes, backslashes
 * and anything outside printable ASCII are dropped rather than escaped.
 */
function headerSafe(text: string): string {
  return text.replace(/[^\x20\x21\x23-\x5b\x5d-\x7e]/g, "");
}

/** The `WWW-Authenticate` value for a refusal (RFC 6750 §3): bare for a missing token, else with an error code. */
export function challenge(reason: BearerFailureReason, message: string, scope?: string): string {
  const base = `Bearer realm="${REALM}"`;
  if (reason === "missing" || reason === "idp_unavailable") return base;
  const error = reason === "insufficient_scope" ? "insufficient_scope" : "invalid_token";
  const parts = [base, `error="${error}"`, `error_description="${headerSafe(message)}"`];
  if (scope !== undefined) parts.push(`scope="${headerSafe(scope)}"`);
  return parts.join(", ");
}

/** A refusal with its status, default message and challenge. `detail` replaces the default message. */
export function refuse(
  reason: BearerFailureReason,
  opts: { detail?: string; scope?: string } = {},
): AuthFailure {
  const message = opts.detail ?? MESSAGES[reason];
  return {
    ok: false,
    status: STATUS[reason],
    reason,
    message,
    wwwAuthenticate: challenge(reason, message, opts.scope),
  };
}
