/** What the `Authorization` header holds, before any cryptography. */
export type BearerToken =
  | { ok: true; token: string }
  | { ok: false; reason: "missing" | "malformed"; detail: string };

// Larger than any IdP's access token; a bigger header is refused before base64 decoding it.
const MAX_TOKEN_CHARS = 8192;

// RFC 6750 §2.1: `Bearer` (any case), one or more spaces, a b64token.
const BEARER = /^bearer +([A-Za-z0-9\-._~+/]+=*) *$/i;

// A compact JWS: header.payload.signature, base64url; an empty signature is let through so that
// an `alg: none` token is refused for its algorithm, which is what it is.
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** The bearer token of an `Authorization` header value; the token itself never appears in `detail`. */
export function parseBearer(header: string | undefined): BearerToken {
  if (header === undefined || header.trim() === "") {
    return { ok: false, reason: "missing", detail: "no bearer token in the `authorization` header" };
  }
  if (header.length > MAX_TOKEN_CHARS) {
    return { ok: false, reason: "malformed", detail: "the `authorization` header is too long" };
  }
  const token = BEARER.exec(header.trim())?.[1];
  if (token === undefined) {
    return { ok: false, reason: "malformed", detail: "the `authorization` header is not `Bearer <token>`" };
  }
  return { ok: true, token };
}

/** True when the token has the shape of a compact JWS (it says nothing about its content). */
export function looksLikeJwt(token: string): boolean {
  return COMPACT_JWS.test(token);
}
