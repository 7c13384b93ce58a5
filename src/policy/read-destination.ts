import { isIP } from "node:net";

/** What one value names: a destination, nothing, or something no single reading can be given to. */
export type Reading =
  | { readonly kind: "none" }
  | {
      readonly kind: "destination";
      readonly scheme: string | null;
      /** Lowercased, punycode, brackets removed from IPv6; "" when the URL has no host. */
      readonly host: string;
      readonly port: number | null;
    }
  | {
      readonly kind: "unreadable";
      /** Real clients connect to different hosts (true), or the value does not parse as a URL (false). */
      readonly conflict: boolean;
      readonly why: string;
    };

const NONE: Reading = Object.freeze({ kind: "none" });
const MALFORMED: Reading = Object.freeze({
  kind: "unreadable",
  conflict: false,
  why: "it does not parse as a URL",
});

const DEFAULT_PORTS: Record<string, number> = {
  http: 80,
  https: 443,
  ws: 80,
  wss: 443,
  ftp: 21,
  ssh: 22,
  gopher: 70,
};
// WHATWG's special schemes: their URLs always have a host, and `\` is read as `/`.
const SPECIAL_SCHEMES = new Set(["http", "https", "ws", "wss", "ftp", "file"]);
const SCHEME_PREFIX = /^([A-Za-z][A-Za-z0-9+.-]*):/;
// `scheme:` without `//`, for a scheme that is not special: `host:8080[/...]` is a port and
// `user:pw@host` is userinfo, neither is a scheme.
const BARE_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:(?!\d+(?:[/?#]|$))(?![^/?#]*@)/;
// C0 controls and spaces around a URL, and tabs and newlines inside it, are dropped by WHATWG parsers.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching C0 controls is the point here
const URL_TRIM = /^[\u0000-\u0020]+|[\u0000-\u0020]+$/g;
const URL_TAB_NEWLINE = /[\t\n\r]/g;
const URL_SHAPED = /[:@\\/]/;
// Under a host key, a value that starts like a file path names no host (`/workspace/out`, `C:\\x`);
// two slashes or backslashes start a scheme-relative URL or a UNC path, which does (`//10.0.0.1/`).
const PATH_LIKE = /^(?:[/\\.~]|[A-Za-z]:[/\\])/;
const SCHEME_RELATIVE = /^[/\\]{2}/;

/**
 * Read a URL, `host`, `host:port`, `[v6]:port`, IP literal or, with `bareHostOk`, a
 * scheme-relative `//host/` as the strictest real client would: WHATWG URL parsing (tabs and
 * newlines dropped, controls trimmed, hosts IDNA-mapped, IPv4 in any form made a dotted quad,
 * also for schemes WHATWG leaves opaque, because their clients resolve hosts with
 * `getaddrinfo`), userinfo ending at the last `@` of the authority (WHATWG, curl, Python), and
 * `\` before an `@` refused because WHATWG and curl or Python then read different hosts.
 * Without `bareHostOk` a value must start with a scheme to name anything.
 */
export function readDestination(raw: string, bareHostOk: boolean): Reading {
  // No length cap: skipping a long URL would allow it. Only its authority is parsed.
  const value = urlText(raw);
  if (value === "") return NONE;
  const bare = value.startsWith("[") && value.endsWith("]") ? value.slice(1, -1) : value;
  if (isIpLiteral(bare)) return destination(null, bare, null);
  const scheme = schemeOf(value);
  let rest = value;
  let special = true;
  if (scheme === null) {
    if (!bareHostOk || (PATH_LIKE.test(value) && !SCHEME_RELATIVE.test(value))) return NONE;
  } else {
    rest = value.slice(scheme.length + 1);
    special = SPECIAL_SCHEMES.has(scheme);
    // `javascript:...`, `file:/etc/passwd`: a scheme to check, but no host.
    if (scheme === "file" ? !SCHEME_RELATIVE.test(rest) : !special && !rest.startsWith("//")) {
      return destination(scheme, "", null);
    }
  }
  const reading = readAuthority(rest, scheme, special);
  if (reading.kind === "unreadable" && !reading.conflict && scheme === null && !URL_SHAPED.test(value)) {
    return NONE; // plain words under a host key (`221B Baker Street`) are not destinations
  }
  return reading;
}

/** The scheme a value starts with, lowercased, or null. */
export function schemeOf(value: string): string | null {
  const m = SCHEME_PREFIX.exec(value);
  if (!m) return null;
  const scheme = (m[1] as string).toLowerCase();
  const slashes = value.startsWith("//", m[0].length);
  return slashes || SPECIAL_SCHEMES.has(scheme) || BARE_SCHEME.test(value) ? scheme : null;
}

function readAuthority(rest: string, scheme: string | null, special: boolean): Reading {
  // Special schemes skip any run of slashes and backslashes (`http:\\\\host`, `http:///host`);
  // `file:` and other schemes have exactly `//` before the authority.
  let start = 0;
  if (scheme === "file" || !special) start = 2;
  else while (start < rest.length && (rest[start] === "/" || rest[start] === "\\")) start++;
  // curl and Python end the authority at `/`, `?` or `#`; WHATWG also at `\` for special schemes.
  let end = start;
  let backslash = -1;
  for (; end < rest.length; end++) {
    const c = rest[end];
    if (c === "/" || c === "?" || c === "#") break;
    if (c === "\\" && backslash < 0) backslash = end;
  }
  const whatwg = special && backslash >= 0 ? rest.slice(start, backslash) : rest.slice(start, end);
  const wide = rest.slice(start, end);
  const at = wide.lastIndexOf("@");
  if (whatwg.length < wide.length && at >= whatwg.length) {
    return {
      kind: "unreadable",
      conflict: true,
      why: `WHATWG parsers read host \`${hostText(whatwg)}\`, curl and Python read \`${wide.slice(at + 1)}\``,
    };
  }
  const hostPort = whatwg.slice(whatwg.lastIndexOf("@") + 1);
  if (hostPort === "") return scheme === "file" || !special ? destination(scheme, "", null) : MALFORMED;
  // An opaque host may not hold `\`; the special-scheme parse below would stop at it instead.
  if (!special && hostPort.includes("\\")) return MALFORMED;
  let url: URL;
  try {
    url = new URL(`http://${hostPort}`);
  } catch {
    return MALFORMED;
  }
  const host = scheme === "file" && url.hostname === "localhost" ? "" : url.hostname;
  // The explicit port, even where it is the default of `http:` (which the URL drops).
  const colon = hostPort.indexOf(":", hostPort.lastIndexOf("]") + 1);
  const port =
    colon >= 0 && colon < hostPort.length - 1
      ? Number(hostPort.slice(colon + 1))
      : scheme
        ? (DEFAULT_PORTS[scheme] ?? null)
        : null;
  return destination(scheme, host, scheme === "file" ? null : port);
}

function destination(scheme: string | null, hostIn: string, port: number | null): Reading {
  const h = (hostIn.startsWith("[") ? hostIn.slice(1, -1) : hostIn).toLowerCase();
  return { kind: "destination", scheme, host: h.endsWith(".") ? h.slice(0, -1) : h, port };
}

/** The host WHATWG reads from an authority, for messages. */
function hostText(authority: string): string {
  return authority.slice(authority.lastIndexOf("@") + 1);
}

/** `isIP`, skipping its regexes for what cannot be an address: IPv4 starts with a digit, IPv6 has a colon. */
export function isIpLiteral(value: string): boolean {
  const c = value.charCodeAt(0);
  return ((c >= 0x30 && c <= 0x39) || value.includes(":")) && isIP(value) !== 0;
}

/** The value as WHATWG URL parsers read it: C0 controls and spaces trimmed, tabs and newlines dropped. */
export function urlText(raw: string): string {
  let clean = raw.length > 0 && raw.charCodeAt(0) > 0x20 && raw.charCodeAt(raw.length - 1) > 0x20;
  if (clean) clean = !raw.includes("\t") && !raw.includes("\n") && !raw.includes("\r");
  return clean ? raw : raw.replace(URL_TRIM, "").replace(URL_TAB_NEWLINE, "");
}
