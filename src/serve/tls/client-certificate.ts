import type { PeerCertificate, TLSSocket } from "node:tls";
import type { MtlsConfig } from "../config-types.js";
import { compileSanAllowList, formatSan, parseSubjectAltName, printable, type SanMatcher } from "./sans.js";

export type MtlsFailureReason = "mtls_no_cert" | "mtls_untrusted" | "mtls_san";

export type ClientCertificateCheck =
  | { readonly ok: true; readonly subject: string; readonly sans: readonly string[] }
  | { readonly ok: false; readonly reason: MtlsFailureReason; readonly message: string };

// Compiled once per config object (configs are immutable): the hot path only looks keys up.
const matchers = new WeakMap<MtlsConfig, SanMatcher>();

function matcherFor(mtls: MtlsConfig): SanMatcher {
  let m = matchers.get(mtls);
  if (m === undefined) {
    m = compileSanAllowList(mtls.allowed_sans);
    matchers.set(mtls, m);
  }
  return m;
}

// A connection's answer, reused by its later requests: reading the peer certificate costs ~30 µs,
// as much as deciding the request. Sound because renegotiation (the one way a connection's client
// certificate could change) is turned off on the first check; TLS 1.3 has none anyway.
const answers = new WeakMap<TLSSocket, { mtls: MtlsConfig; check: ClientCertificateCheck }>();

/**
 * Whether the client of a TLS connection may call the service. The server runs with
 * `requestCert: true, rejectUnauthorized: false` (loadTls), so every handshake completes and this
 * decides, per request, in order: no certificate (`mtls_no_cert`), one the client CA bundle does
 * not verify — another CA, expired, not yet valid (`mtls_untrusted`), none of its SANs in
 * `allowed_sans` (`mtls_san`). With mTLS off every connection passes. Fails closed on a socket
 * that is not TLS. Turns TLS renegotiation off on the socket (a client asking for it is
 * disconnected), so the answer is computed once per connection.
 */
export function checkClientCertificate(socket: TLSSocket, mtls: MtlsConfig): ClientCertificateCheck {
  if (!mtls.enabled) return { ok: true, subject: "", sans: [] };
  // A plain TCP socket reached here means a misconfigured server: refuse rather than trust it.
  if (typeof socket.getPeerCertificate !== "function")
    return { ok: false, reason: "mtls_no_cert", message: "the connection is not TLS" };
  const known = answers.get(socket);
  if (known !== undefined && known.mtls === mtls) return known.check;
  socket.disableRenegotiation();
  const check = Object.freeze(checkPeer(socket, mtls));
  answers.set(socket, { mtls, check });
  return check;
}

function checkPeer(socket: TLSSocket, mtls: MtlsConfig): ClientCertificateCheck {
  const peer = socket.getPeerCertificate();
  // Node answers `{}` (or null once the socket is gone) when the client sent no certificate.
  if (peer === null || peer === undefined || peer.raw === undefined)
    return { ok: false, reason: "mtls_no_cert", message: "no client certificate was presented" };
  const subject = formatSubject(peer);
  if (!socket.authorized) {
    return {
      ok: false,
      reason: "mtls_untrusted",
      message: `client certificate \`${subject}\` is not trusted: ${String(socket.authorizationError ?? "unverified")}`,
    };
  }
  const sans = parseSubjectAltName(peer.subjectaltname);
  if (!matcherFor(mtls)(sans)) {
    const names =
      sans.length === 0 ? "it has no subjectAltName" : `its names are ${sans.map(formatSan).join(", ")}`;
    return {
      ok: false,
      reason: "mtls_san",
      message: `client certificate \`${subject}\` is not in \`allowed_sans\`: ${names}`,
    };
  }
  return { ok: true, subject, sans: sans.map(formatSan) };
}

/** `CN=agent, O=example`: the subject's attributes in the certificate's order. */
function formatSubject(peer: PeerCertificate): string {
  const parts = Object.entries(peer.subject ?? {}).map(
    ([k, v]) => `${k}=${Array.isArray(v) ? v.join("+") : String(v)}`,
  );
  return parts.length > 0 ? printable(parts.join(", ")) : "(empty subject)";
}
