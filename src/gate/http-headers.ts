import type { IncomingHttpHeaders, OutgoingHttpHeaders } from "node:http";
import ipaddr from "ipaddr.js";

/** Headers that describe one connection, not the message: never copied across the proxy. */
const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-connection",
  "proxy-authenticate",
  "proxy-authorization",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];

function copyHeaders(h: IncomingHttpHeaders, drop: readonly string[]): OutgoingHttpHeaders {
  const skip = new Set([...HOP_BY_HOP, ...drop]);
  for (const name of String(h.connection ?? "").split(",")) skip.add(name.trim().toLowerCase());
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !skip.has(k)) out[k] = v;
  return out;
}

/**
 * The client's headers as the upstream gets them (`Mcp-Session-Id`, `MCP-Protocol-Version`,
 * `Last-Event-ID`, `Authorization` pass through). The body must stay readable: no encodings.
 */
export function upstreamHeaders(h: IncomingHttpHeaders, body: Buffer | undefined): OutgoingHttpHeaders {
  const out = copyHeaders(h, [
    "host",
    "content-length",
    "accept-encoding",
    "content-type",
    "content-encoding",
  ]);
  out["accept-encoding"] = "identity";
  if (body !== undefined) {
    // The body is the gate's own serialization of what it parsed: UTF-8 JSON, whatever the client
    // declared (a `charset=utf-7` would otherwise let the server read other messages than the gate).
    out["content-type"] = "application/json";
    out["content-length"] = body.length;
  } else if (h["content-type"] !== undefined) out["content-type"] = h["content-type"];
  return out;
}

/** The upstream's headers as the client gets them; `content-length` only when the body is unchanged. */
export function downstreamHeaders(h: IncomingHttpHeaders, keepLength: boolean): OutgoingHttpHeaders {
  return copyHeaders(h, keepLength ? [] : ["content-length"]);
}

/** `text/event-stream; charset=utf-8` → `text/event-stream`. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
}

/** The `charset` parameter of a Content-Type, lower-cased and unquoted; undefined when there is none. */
export function charsetOf(contentType: string | undefined): string | undefined {
  let found: string | undefined;
  for (const param of (contentType ?? "").split(";").slice(1)) {
    const eq = param.indexOf("=");
    if (eq < 0 || param.slice(0, eq).trim().toLowerCase() !== "charset") continue;
    const value = param
      .slice(eq + 1)
      .trim()
      .replace(/^"(.*)"$/, "$1")
      .toLowerCase();
    // Two charsets: clients could take either, so neither is UTF-8 for sure.
    found = found === undefined || found === value ? value : "ambiguous";
  }
  return found;
}

/** A header's single value; undefined when absent or sent more than once. */
export function singleHeader(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return typeof v === "string" ? v : undefined;
}

/** `localhost`, 127.0.0.0/8, ::1 (also `[::1]` and IPv4-mapped forms). */
export function isLoopbackHost(host: string): boolean {
  const h = host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
  if (h.toLowerCase() === "localhost") return true;
  if (!ipaddr.isValid(h)) return false;
  return ipaddr.process(h).range() === "loopback";
}

/**
 * Whether a browser `Origin` may talk to the proxy: absent (not a browser), a loopback origin,
 * or one the user allowed. This is the DNS-rebinding check the MCP transport asks servers for.
 */
export function originAllowed(origin: string | undefined, allowed: ReadonlySet<string>): boolean {
  if (origin === undefined) return true;
  if (allowed.has(origin)) return true;
  try {
    return isLoopbackHost(new URL(origin).hostname);
  } catch {
    return false;
  }
}
