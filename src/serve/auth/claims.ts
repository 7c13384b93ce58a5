import type { JWTPayload } from "jose";

function words(value: unknown): string[] {
  if (typeof value === "string") return value.split(" ").filter((s) => s !== "");
  if (Array.isArray(value)) return value.filter((s): s is string => typeof s === "string" && s !== "");
  return [];
}

/**
 * The token's scopes: `scope` (RFC 8693 / RFC 9068: one space-separated string) and `scp` (an
 * array at most IdPs, a string at some), both read as either shape and merged.
 */
export function scopesOf(payload: JWTPayload): string[] {
  return [...new Set([...words(payload.scope), ...words(payload.scp)])];
}

/**
 * Who the token speaks for: `sub`, else the client (`client_id` of RFC 9068, `azp` of OIDC),
 * since some IdPs leave `sub` out of client-credentials tokens. Undefined when there is neither.
 */
export function subjectOf(payload: JWTPayload): { subject: string; client_id?: string } | undefined {
  const text = (v: unknown) => (typeof v === "string" && v !== "" ? v : undefined);
  const clientId = text(payload.client_id) ?? text(payload.azp);
  const subject = text(payload.sub) ?? clientId;
  if (subject === undefined) return undefined;
  return clientId === undefined ? { subject } : { subject, client_id: clientId };
}
