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

/** Whether `value` is an IP address, as `node:net`'s `isIP` says (see ipVersion). */
export function isIpLiteral(value: string): boolean {
  return ipVersion(value) !== 0;
}

/**
 * `node:net`'s `isIP`, without its regexes: 4 for a dotted quad (decimal octets, no leading
 * zeros), 6 for an IPv6 address (with an optional zone id of letters, digits, `-`, `.` and `:`),
 * 0 for anything else. Node compiles its IPv6 regex on first use, which took 4-11 ms of every
 * start whose pack has IPv6 CIDRs, or of the first decision that reads a URL; a property test
 * holds this to isIP's answers.
 */
export function ipVersion(value: string): 0 | 4 | 6 {
  // Most values are names: an address starts with a hex digit or `:`, and IPv4 fits in 15 characters.
  const c = value.charCodeAt(0);
  if (!(isHex(c) || c === 0x3a)) return 0;
  if (value.length <= 15 && isDottedQuad(value, 0, value.length)) return 4;
  return isIpv6(value) ? 6 : 0;
}

/** `value[from, to)` is four decimal octets 0-255 without leading zeros, joined by dots. */
export function isDottedQuad(value: string, from: number, to: number): boolean {
  let octets = 0;
  let start = from;
  for (let i = from; i <= to; i++) {
    if (i < to && value.charCodeAt(i) !== 0x2e) continue;
    const len = i - start;
    if (len < 1 || len > 3 || ++octets > 4) return false;
    let n = 0;
    for (let k = start; k < i; k++) {
      const c = value.charCodeAt(k);
      if (c < 0x30 || c > 0x39) return false;
      n = n * 10 + (c - 0x30);
    }
    if (n > 255 || (len > 1 && value.charCodeAt(start) === 0x30)) return false;
    start = i + 1;
  }
  return octets === 4;
}

/**
 * RFC 4291's text forms as isIP's regex takes them: eight groups of 1-4 hex digits, or fewer
 * around one `::` that stands for at least one, the last two groups optionally a dotted quad;
 * then an optional `%zone`.
 */
function isIpv6(value: string): boolean {
  const pct = value.indexOf("%");
  const end = pct < 0 ? value.length : pct;
  if (pct >= 0 && !isZone(value, pct + 1)) return false;
  const gap = value.indexOf("::");
  if (gap < 0 || gap >= end) return countGroups(value, 0, end, true) === 8;
  // A second `::` (or `:::`) is not an address.
  const again = value.indexOf("::", gap + 1);
  if (again >= 0 && again < end) return false;
  const head = gap === 0 ? 0 : countGroups(value, 0, gap, false);
  const tail = gap + 2 === end ? 0 : countGroups(value, gap + 2, end, true);
  return head >= 0 && tail >= 0 && head + tail <= 7;
}

/**
 * The groups `value[from, to)` holds, -1 if it is not a `:`-joined list of 1-4 hex digit groups
 * (of which the last may be a dotted quad, counting two, when `lastMayBeV4`).
 */
function countGroups(value: string, from: number, to: number, lastMayBeV4: boolean): number {
  let groups = 0;
  let start = from;
  let dots = false;
  for (let i = from; i <= to; i++) {
    // The end closes the last group as a `:` would.
    const c = i < to ? value.charCodeAt(i) : 0x3a;
    if (c !== 0x3a) {
      if (c === 0x2e) dots = true;
      else if (!isHex(c)) return -1;
      // No group, dotted quad included, runs past 15 characters: a long value is refused early.
      if (i - start >= 15) return -1;
      continue;
    }
    if (dots) return i === to && lastMayBeV4 && isDottedQuad(value, start, i) ? groups + 2 : -1;
    const len = i - start;
    if (len < 1 || len > 4) return -1;
    groups++;
    start = i + 1;
  }
  return groups;
}

function isHex(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** A zone id from `from` to the end: one or more letters, digits, `-`, `.` or `:`. */
function isZone(value: string, from: number): boolean {
  if (from >= value.length) return false;
  for (let i = from; i < value.length; i++) {
    const c = value.charCodeAt(i);
    const ok =
      (c >= 0x30 && c <= 0x3a) ||
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x41 && c <= 0x5a) ||
      c === 0x2d ||
      c === 0x2e;
    if (!ok) return false;
  }
  return true;
}

/** The value as WHATWG URL parsers read it: C0 controls and spaces trimmed, tabs and newlines dropped. */
export function urlText(raw: string): string {
  let clean = raw.length > 0 && raw.charCodeAt(0) > 0x20 && raw.charCodeAt(raw.length - 1) > 0x20;
  if (clean) clean = !raw.includes("\t") && !raw.includes("\n") && !raw.includes("\r");
  return clean ? raw : raw.replace(URL_TRIM, "").replace(URL_TAB_NEWLINE, "");
}
