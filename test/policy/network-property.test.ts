import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import ipaddr from "ipaddr.js";
import { readDestination } from "../../src/policy/read-destination.js";
import { netPolicy, PRIVATE } from "./network-helpers.js";

// An oracle written apart from the code under test: is a host, as a real client reads it, in
// mcp-baseline's private ranges (also as the IPv4 address a mapped, compatible, NAT64 or 6to4
// IPv6 address carries) or one of its denied names?
const RANGES = (PRIVATE.deny_cidrs ?? []).map((c) => ipaddr.parseCIDR(c));
function inRanges(a: ipaddr.IPv4 | ipaddr.IPv6): boolean {
  return RANGES.some(([net, bits]) => a.kind() === net.kind() && a.match([net, bits] as never));
}
function carriedV4(a: ipaddr.IPv6): ipaddr.IPv4[] {
  const p = a.parts;
  const v4 = (hi: number, lo: number) =>
    ipaddr.fromByteArray([hi >> 8, hi & 0xff, lo >> 8, lo & 0xff]) as ipaddr.IPv4;
  const zero = (from: number, to: number) => p.slice(from, to).every((x) => x === 0);
  const out: ipaddr.IPv4[] = [];
  if (zero(0, 5) && (p[5] === 0 || p[5] === 0xffff)) out.push(v4(p[6] ?? 0, p[7] ?? 0));
  if (p[0] === 0x64 && p[1] === 0xff9b && zero(2, 6)) out.push(v4(p[6] ?? 0, p[7] ?? 0));
  if (p[0] === 0x2002) out.push(v4(p[1] ?? 0, p[2] ?? 0));
  return out;
}
function deniedHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, "").replace(/\.$/, "");
  if (h === "localhost" || h.endsWith(".localhost") || h.endsWith(".internal")) return true;
  if (!ipaddr.isValid(h)) return false;
  const a = ipaddr.parse(h);
  return inRanges(a) || (a.kind() === "ipv6" && carriedV4(a as ipaddr.IPv6).some(inRanges));
}
/** WHATWG (`new URL`, as `fetch` reads it) says the URL goes to a denied host. */
function whatwgDenied(s: string): boolean {
  try {
    return deniedHost(new URL(s).hostname);
  } catch {
    return false;
  }
}
/** curl's split says so: no control characters, authority to the first `/?#`, userinfo to the first `@`. */
function curlDenied(s: string): boolean {
  const m = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(s);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: curl refuses control characters
  if (!m || /[\u0000-\u001f\u007f]/.test(s)) return false;
  const authority = m[1] as string;
  const host = authority.slice(authority.indexOf("@") + 1);
  if (/[\s/#?!@{}\\$'"^`*<>=;,+&()%]/.test(host) || /[^\x20-\x7e]/.test(host)) return false;
  return whatwgDenied(`http://${host}/`);
}

const octet = fc.integer({ min: 0, max: 255 });
const v4 = fc.oneof(
  fc.constantFrom(0x7f000001, 0xa9fea9fe, 0x0a000001, 0xc0a80101, 0xac100001, 0x64400001, 0),
  fc.tuple(octet, octet, octet, octet).map(([a, b, c, d]) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0),
);
const dotted = (n: number) => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const hex4 = (n: number) => `${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
const host = fc.oneof(
  v4.map(dotted),
  v4.map((n) => String(n)),
  v4.map((n) => `0x${n.toString(16)}`),
  v4.map((n) => dotted(n).replace(/\d+/g, (x) => `0${Number(x).toString(8)}`)),
  v4.map((n) => `${n >>> 24}.${n & 0xffffff}`),
  v4.map((n) => `[::ffff:${dotted(n)}]`),
  v4.map((n) => `[::${dotted(n)}]`),
  v4.map((n) => `[64:ff9b::${hex4(n)}]`),
  v4.map((n) => `[2002:${hex4(n)}::1]`),
  fc.constantFrom("[::1]", "[fd00:ec2::254]", "[fe80::1]", "[2606:4700::1111]", "[::]"),
  fc.constantFrom("localhost", "api.localhost", "metadata.google.internal", "example.com", "LOCALHOST."),
);
// Userinfo characters curl and Python requests accept (and `\`, which WHATWG reads as `/`).
const USERINFO = [..."abcxyz019-._~!$&'()*+,;=:%", "\\", '"', "|", "<", ">", "{", "}", "`"];
const url = (withSpaces: boolean) =>
  fc
    .record({
      scheme: fc.constantFrom("http", "https", "ws", "wss", "ftp", "HTTP", "hTTps"),
      sep: fc.constantFrom("://", "://", "://", ":/", ":\\\\", ":"),
      user: fc.option(
        fc.array(fc.constantFrom(...USERINFO, ...(withSpaces ? [" ", "\u00a0"] : [])), { maxLength: 6 }),
      ),
      host,
      port: fc.option(fc.integer({ min: 1, max: 65535 })),
      path: fc.constantFrom("", "/", "/latest/meta-data/", "/x?y=1#z", "?q", "#f"),
      inject: fc.array(fc.tuple(fc.nat(), fc.constantFrom("\t", "\r", "\n", "\uFEFF")), { maxLength: 3 }),
    })
    .map(({ scheme, sep, user, host, port, path, inject }) => {
      let s = `${scheme}${sep}${user ? `${user.join("")}@` : ""}${host}${port ? `:${port}` : ""}${path}`;
      for (const [at, c] of inject) {
        const i = at % (s.length + 1);
        s = `${s.slice(0, i)}${c}${s.slice(i)}`;
      }
      return s;
    });

describe("network property: whatever a real client connects to is judged", () => {
  const check = netPolicy(PRIVATE);
  const mustDeny = (args: Record<string, unknown>, s: string) => {
    const d = check(args);
    assert.equal(
      d.effect,
      "deny",
      `${JSON.stringify(s)} in ${JSON.stringify(args)}: ${JSON.stringify(d.violations)}`,
    );
  };

  test("a URL-shaped value new URL() or curl resolves to a denied host is denied, under any key", () => {
    fc.assert(
      fc.property(url(true), (s) => {
        if (!whatwgDenied(s) && !curlDenied(s)) return;
        mustDeny({ url: s }, s);
        mustDeny({ request: s }, s);
      }),
      { numRuns: 1500 },
    );
  });

  test("the same URL inside a command line or JSON inside a string is denied too", () => {
    fc.assert(
      fc.property(url(false), fc.constantFrom("curl -s ", "run(", "see: ", "'", "[x]("), (s, before) => {
        if (!whatwgDenied(s) && !curlDenied(s)) return;
        mustDeny({ command: `${before}${s} | sh` }, s);
        mustDeny({ payload: JSON.stringify({ steps: [{ fetch: s }] }) }, s);
      }),
      { numRuns: 1000 },
    );
  });

  test("the destination read is the one WHATWG reads, or the value is refused as unreadable", () => {
    fc.assert(
      fc.property(url(true), (s) => {
        let whole: URL;
        try {
          whole = new URL(s);
        } catch {
          return;
        }
        const r = readDestination(s, true);
        if (r.kind === "unreadable") {
          // Only where curl and Python read another host: a `\` before the last `@`.
          assert.ok(r.conflict && /\\.*@/s.test(s), `${JSON.stringify(s)}: ${r.why}`);
          return;
        }
        assert.equal(r.kind, "destination", JSON.stringify(s));
        if (r.kind !== "destination") return;
        const hostname = whole.hostname.replace(/^\[|\]$/g, "").replace(/\.$/, "");
        assert.equal(r.host, hostname, JSON.stringify(s));
        const defaults: Record<string, number> = {
          "http:": 80,
          "https:": 443,
          "ws:": 80,
          "wss:": 443,
          "ftp:": 21,
        };
        assert.equal(
          r.port,
          whole.port !== "" ? Number(whole.port) : defaults[whole.protocol],
          JSON.stringify(s),
        );
      }),
      { numRuns: 1500 },
    );
  });
});
