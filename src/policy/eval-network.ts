import { isIP } from "node:net";
import { type IpBits, ipBits } from "./ip-bits.js";
import type { CidrSet, HostSet, NetworkIR } from "./network-ir.js";
import { normalizeHost } from "./network-ir.js";

/** A network destination found in a call's arguments. */
export interface NetTarget {
  readonly pointer: string;
  readonly raw: string;
  readonly scheme: string | null;
  readonly host: string;
  readonly ip: string | null;
  /** The IP in numeric form, for range checks. */
  readonly bits: IpBits | null;
  readonly port: number | null;
}

/** One reason a target is refused. */
export interface NetFinding {
  readonly pointer: string;
  readonly message: string;
}

// Keys whose string values name a destination even without a scheme.
const HOST_KEYS = new Set([
  "url",
  "uri",
  "href",
  "link",
  "endpoint",
  "host",
  "hostname",
  "server",
  "domain",
  "ip",
  "ip_address",
  "address",
  "addr",
  "base_url",
  "baseurl",
  "target",
  "target_url",
  "webhook",
  "webhook_url",
  "callback_url",
  "proxy",
  "remote",
  "origin",
  "destination",
]);
const DEFAULT_PORTS: Record<string, number> = {
  http: 80,
  https: 443,
  ws: 80,
  wss: 443,
  ftp: 21,
  ssh: 22,
  gopher: 70,
};
// More candidate destinations than this in one call is refused, not truncated: a check that
// stopped reading would let one bad URL hide behind many harmless ones.
const MAX_TARGETS = 256;
const SCHEME_CHAR = /[A-Za-z0-9+.-]/;
// A backslash does not end a URL: special-scheme parsers read it as a path separator.
const URL_END = /[\s"'<>`|;,(){}]/;
const HAS_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//;
const SCHEME_PREFIX = /^([A-Za-z][A-Za-z0-9+.-]*):/;
// `http:10.0.0.1`, `http:/10.0.0.1`, `http:\\10.0.0.1`: a special scheme without `//` that WHATWG
// URL parsers (and so `fetch`) still accept. `host:8080[/...]` is a port, not a scheme.
// `user:pw@host` is userinfo, not a scheme.
const BARE_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:(?!\d+(?:[/?#]|$))(?![^/?#]*@)/;
const SCHEME_NO_SLASHES = /(?:^|[^A-Za-z0-9+.-])(?:https?|wss?|ftp|file|gopher):(?!\/\/)/i;
const SCHEME_NO_SLASHES_ALL = /(?:^|[^A-Za-z0-9+.-])((?:https?|wss?|ftp|file|gopher):)(?!\/\/)/gi;
// C0 controls and spaces around a URL, and tabs and newlines inside it, are dropped by WHATWG parsers.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching C0 controls is the point here
const URL_TRIM = /^[\u0000-\u0020]+|[\u0000-\u0020]+$/g;
const URL_TAB_NEWLINE = /[\t\n\r]/g;
const URL_SHAPED = /[:@\\/]/;
const NUMERIC_HOST_KEYS = new Set(["ip", "ip_address", "host", "hostname"]);
/** A value that names a destination but cannot be read as one without guessing. */
export const UNREADABLE = Symbol("unreadable");
// Under a host key, a value that starts like a file path names no host (`/workspace/out`, `C:\\x`).
const PATH_LIKE = /^(?:[/\\.~]|[A-Za-z]:[/\\])/;
// Schemes whose URLs always have a host, however many slashes follow the colon.
const SPECIAL_SCHEMES = new Set(["http", "https", "ws", "wss", "ftp"]);

/** The destinations a rule found; `overflow` when there were more candidates than it reads. */
export interface FoundTargets {
  readonly targets: NetTarget[];
  /** Values that look like a destination but could not be read unambiguously: refused, never skipped. */
  readonly unreadable: { pointer: string; raw: string }[];
  candidates: number;
  overflow: boolean;
}

/** Every destination in `args` the rule looks at. */
export function findTargets(ir: NetworkIR, args: Record<string, unknown>): FoundTargets {
  const out: FoundTargets = { targets: [], unreadable: [], candidates: 0, overflow: false };
  if (ir.paths) {
    for (const path of ir.paths) collectPath(args, path, 0, "/arguments", out);
  } else {
    scan(args, out);
  }
  return out;
}

function collectPath(
  value: unknown,
  path: readonly string[],
  i: number,
  pointer: string,
  out: FoundTargets,
): void {
  if (out.overflow) return;
  if (i === path.length) {
    collectAll(value, pointer, out);
    return;
  }
  if (value === null || typeof value !== "object") return;
  const seg = path[i] as string;
  if (seg === "*") {
    for (const [k, v] of Object.entries(value))
      collectPath(v, path, i + 1, `${pointer}/${escapePointerKey(k)}`, out);
  } else if (Object.hasOwn(value, seg)) {
    collectPath(
      (value as Record<string, unknown>)[seg],
      path,
      i + 1,
      `${pointer}/${escapePointerKey(seg)}`,
      out,
    );
  }
}

/** Every string and number at or under a configured path is a destination, whatever its shape. */
function collectAll(value: unknown, pointer: string, out: FoundTargets): void {
  // INVARIANT: the caller has already bounded the arguments' depth and size.
  if (out.overflow) return;
  if (typeof value === "string") pushTarget(value, pointer, true, out);
  else if (typeof value === "number") pushTarget(String(value), pointer, true, out);
  else if (Array.isArray(value)) {
    for (const [k, v] of value.entries()) collectAll(v, `${pointer}/${k}`, out);
  } else if (value !== null && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) collectAll(v, `${pointer}/${escapePointerKey(k)}`, out);
  }
}

function scan(args: Record<string, unknown>, out: FoundTargets): void {
  // INVARIANT: the caller has already bounded the arguments' depth and size.
  const stack: { value: unknown; pointer: string; key: string }[] = [
    { value: args, pointer: "/arguments", key: "" },
  ];
  while (stack.length > 0 && !out.overflow) {
    const { value, pointer, key } = stack.pop() as { value: unknown; pointer: string; key: string };
    if (typeof value === "string") {
      if (HOST_KEYS.has(key.toLowerCase())) pushTarget(value, pointer, true, out);
      else if (value.includes("://") || SCHEME_NO_SLASHES.test(value)) pushEmbeddedUrls(value, pointer, out);
    } else if (typeof value === "number") {
      // `{"ip": 2852039166}` is 169.254.169.254 to anything that connects to it.
      if (NUMERIC_HOST_KEYS.has(key.toLowerCase())) pushTarget(String(value), pointer, true, out);
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--)
        stack.push({ value: value[i], pointer: `${pointer}/${i}`, key });
    } else if (value !== null && typeof value === "object") {
      const entries = Object.entries(value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, v] = entries[i] as [string, unknown];
        stack.push({ value: v, pointer: `${pointer}/${escapePointerKey(k)}`, key: k });
      }
    }
  }
}

/** URLs inside free text (`curl http://10.0.0.1/`): from each `://` back to the scheme, forward to a delimiter. */
function pushEmbeddedUrls(text: string, pointer: string, out: FoundTargets): void {
  pushSlashlessUrls(text, pointer, out);
  let from = 0;
  let end = 0;
  while (!out.overflow) {
    const at = text.indexOf("://", from);
    if (at < 0) return;
    let start = at;
    while (start > 0 && SCHEME_CHAR.test(text[start - 1] as string)) start--;
    // A URL inside the previous one ends where that one ends: scanning again would be quadratic.
    if (end < at + 3) {
      end = at + 3;
      while (end < text.length && !URL_END.test(text[end] as string)) end++;
    }
    if (start < at) pushTarget(text.slice(start, end), pointer, false, out);
    from = at + 3;
  }
}

/** `curl http:169.254.169.254/`: special schemes fetch accepts without `//`, anywhere in free text. */
function pushSlashlessUrls(text: string, pointer: string, out: FoundTargets): void {
  SCHEME_NO_SLASHES_ALL.lastIndex = 0;
  let end = 0;
  for (
    let m = SCHEME_NO_SLASHES_ALL.exec(text);
    m !== null && !out.overflow;
    m = SCHEME_NO_SLASHES_ALL.exec(text)
  ) {
    const start = m.index + (m[0].length - (m[1] as string).length);
    if (start < end) continue;
    end = start + (m[1] as string).length;
    while (end < text.length && !URL_END.test(text[end] as string)) end++;
    pushTarget(text.slice(start, end), pointer, false, out);
  }
}

function pushTarget(value: string, pointer: string, bareHostOk: boolean, out: FoundTargets): void {
  if (++out.candidates > MAX_TARGETS) {
    out.overflow = true;
    return;
  }
  const t = parseTarget(value, pointer, bareHostOk);
  if (t === UNREADABLE) out.unreadable.push({ pointer, raw: value });
  else if (t) out.targets.push(t);
}

/** Parse a URL, `host`, `host:port`, `[v6]:port` or IP literal into a normalized destination. */
export function parseTarget(
  raw: string,
  pointer: string,
  bareHostOk: boolean,
): NetTarget | typeof UNREADABLE | null {
  // No length cap: skipping a long URL would allow it. Only its authority is parsed (below).
  const value = urlText(raw);
  if (value === "") return null;
  const bare = value.startsWith("[") && value.endsWith("]") ? value.slice(1, -1) : value;
  if (isIpLiteral(bare)) return target(pointer, raw, null, bare, null);
  const slashes = HAS_SCHEME.test(value);
  const prefix = slashes || BARE_SCHEME.test(value) ? SCHEME_PREFIX.exec(value) : null;
  const scheme = prefix ? (prefix[1] as string).toLowerCase() : null;
  if (scheme === null && (!bareHostOk || PATH_LIKE.test(value))) return null;
  // `file:/etc/passwd`, `javascript:...`: a scheme to check, but no host.
  if (scheme !== null && ((!slashes && !SPECIAL_SCHEMES.has(scheme)) || scheme === "file")) {
    return target(pointer, raw, scheme, "", null);
  }
  const rest = scheme === null ? value : value.slice(scheme.length + 1);
  const authority = authorityOf(rest);
  // `http://a.example\@10.0.0.1/`: WHATWG reads host a.example, curl and Python read 10.0.0.1.
  const rawAuthority = rawAuthorityOf(rest);
  if (rawAuthority.includes("@") && rawAuthority.includes("\\")) return UNREADABLE;
  let url: URL;
  try {
    url = new URL(`${scheme ?? "http"}://${authority}`);
  } catch {
    // A value that is shaped like a URL but does not parse is refused; plain words are not destinations.
    return scheme !== null || URL_SHAPED.test(value) ? UNREADABLE : null;
  }
  if (url.hostname === "") return scheme ? target(pointer, raw, scheme, "", null) : null;
  const port = url.port !== "" ? Number(url.port) : scheme ? (DEFAULT_PORTS[scheme] ?? null) : null;
  return target(pointer, raw, scheme, url.hostname, port);
}

/**
 * `scheme://authority` of a URL: the destination without its path, query or fragment, so that a
 * long URL costs no more to check than a short one. Same host and port as the whole URL: for
 * special schemes the authority ends at the first `/`, `\`, `?` or `#` after any leading slashes.
 */
/** Like authorityOf, but ends only at `/`, `?` or `#`: what a parser that keeps backslashes reads. */
function rawAuthorityOf(rest: string): string {
  let i = 0;
  while (i < rest.length && (rest[i] === "/" || rest[i] === "\\")) i++;
  const start = i;
  while (i < rest.length && rest[i] !== "/" && rest[i] !== "?" && rest[i] !== "#") i++;
  return rest.slice(start, i);
}

/** The authority of what follows a URL's `scheme:`: leading slashes skipped, up to the path, query or fragment. */
function authorityOf(rest: string): string {
  let i = 0;
  while (i < rest.length && (rest[i] === "/" || rest[i] === "\\")) i++;
  const start = i;
  for (; i < rest.length; i++) {
    const c = rest[i];
    if (c === "/" || c === "\\" || c === "?" || c === "#") break;
  }
  return rest.slice(start, i);
}

function target(
  pointer: string,
  raw: string,
  scheme: string | null,
  hostIn: string,
  port: number | null,
): NetTarget {
  const host = normalizeHost(hostIn.startsWith("[") ? hostIn.slice(1, -1) : hostIn);
  const ip = isIpLiteral(host) ? host : null;
  return { pointer, raw, scheme, host, ip, bits: ip ? ipBits(ip) : null, port };
}

function inCidrs(set: CidrSet, bits: IpBits | null): string | null {
  if (!bits) return null;
  for (const e of set.entries) {
    if (e.family === 4) {
      if (bits.v4 !== null && (bits.v4 & (e.mask as number)) >>> 0 === e.base) return e.cidr;
    } else if (bits.v6 !== null && (bits.v6 & (e.mask as bigint)) === e.base) return e.cidr;
  }
  return null;
}

function inHosts(set: HostSet, host: string): boolean {
  if (set.exact.has(host)) return true;
  for (const s of set.suffixes) if (host.endsWith(s)) return true;
  return false;
}

/** Every reason the rule refuses one of the call's destinations ([] = all allowed). */
export function evaluateNetwork(
  ir: NetworkIR,
  args: Record<string, unknown>,
  found: FoundTargets = findTargets(ir, args),
): NetFinding[] {
  const findings: NetFinding[] = [];
  for (const u of found.unreadable) {
    const shown = u.raw.length > 120 ? `${u.raw.slice(0, 117)}...` : u.raw;
    findings.push({
      pointer: u.pointer,
      message: `\`${shown}\` names a destination that cannot be read unambiguously`,
    });
  }
  if (found.overflow) {
    findings.push({
      pointer: "/arguments",
      message: `arguments name more than ${MAX_TARGETS} network destinations, more than a rule checks`,
    });
  }
  for (const t of found.targets) {
    const what = `\`${t.raw.length > 120 ? `${t.raw.slice(0, 117)}...` : t.raw}\``;
    if (ir.allowSchemes && t.scheme !== null && !ir.allowSchemes.has(t.scheme)) {
      findings.push({
        pointer: t.pointer,
        message: `${what} uses scheme \`${t.scheme}\`, which is not allowed`,
      });
    }
    if (t.host === "") continue;
    if (t.ip) {
      const denied = ir.denyCidrs ? inCidrs(ir.denyCidrs, t.bits) : null;
      if (denied) findings.push({ pointer: t.pointer, message: `${what} is in denied range \`${denied}\`` });
      else if (ir.denyHosts?.exact.has(t.ip))
        findings.push({ pointer: t.pointer, message: `${what} is a denied host` });
      if (
        ir.allowCidrs &&
        !inCidrs(ir.allowCidrs, t.bits) &&
        !(ir.allowHosts && inHosts(ir.allowHosts, t.ip))
      ) {
        findings.push({ pointer: t.pointer, message: `${what} is outside the allowed ranges` });
      } else if (!ir.allowCidrs && ir.allowHosts && !inHosts(ir.allowHosts, t.ip)) {
        findings.push({ pointer: t.pointer, message: `${what} is an address not in the allowed hosts` });
      }
    } else {
      if (ir.denyHosts && inHosts(ir.denyHosts, t.host)) {
        findings.push({ pointer: t.pointer, message: `${what} names denied host \`${t.host}\`` });
      }
      if (ir.allowHosts && !inHosts(ir.allowHosts, t.host)) {
        findings.push({
          pointer: t.pointer,
          message: `${what} names host \`${t.host}\`, which is not allowed`,
        });
      } else if (!ir.allowHosts && ir.allowCidrs) {
        findings.push({
          pointer: t.pointer,
          message: `${what} names host \`${t.host}\`, which cannot be checked against allow_cidrs without resolving it`,
        });
      }
    }
    if (t.port !== null) {
      if (ir.denyPorts?.has(t.port))
        findings.push({ pointer: t.pointer, message: `${what} uses denied port ${t.port}` });
      if (ir.allowPorts && !ir.allowPorts.has(t.port)) {
        findings.push({ pointer: t.pointer, message: `${what} uses port ${t.port}, which is not allowed` });
      }
    }
  }
  return findings;
}

function escapePointerKey(key: string): string {
  if (!key.includes("~") && !key.includes("/")) return key;
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** `isIP`, skipping its regexes for what cannot be an address: IPv4 starts with a digit, IPv6 has a colon. */
function isIpLiteral(value: string): boolean {
  const c = value.charCodeAt(0);
  return ((c >= 0x30 && c <= 0x39) || value.includes(":")) && isIP(value) !== 0;
}

/** The value as WHATWG URL parsers read it: C0 controls and spaces trimmed, tabs and newlines dropped. */
function urlText(raw: string): string {
  let clean = raw.length > 0 && raw.charCodeAt(0) > 0x20 && raw.charCodeAt(raw.length - 1) > 0x20;
  if (clean) clean = !raw.includes("\t") && !raw.includes("\n") && !raw.includes("\r");
  return clean ? raw : raw.replace(URL_TRIM, "").replace(URL_TAB_NEWLINE, "");
}
