import assert from "node:assert/strict";
import { isIP } from "node:net";
import { describe, test } from "node:test";
import fc from "fast-check";
import { evaluateNetwork } from "../../src/policy/eval-network.js";
import { ipBits, v4Text } from "../../src/policy/ip-bits.js";
import { compileNetwork } from "../../src/policy/network-ir.js";
import { allowed, denied, netPolicy, PRIVATE } from "./network-helpers.js";

/** The IPv4 addresses an IPv6 address carries, as `form a.b.c.d`. */
const carried = (ip: string) => (ipBits(ip)?.carried ?? []).map((c) => `${c.form} ${v4Text(c.v4)}`);

describe("ip bits: IPv4 addresses carried in IPv6 addresses", () => {
  test("IPv4-mapped and IPv4-compatible (WHATWG writes [::127.0.0.1] as [::7f00:1])", () => {
    assert.deepEqual(carried("::ffff:169.254.169.254"), ["ipv4-mapped 169.254.169.254"]);
    assert.deepEqual(carried("::7f00:1"), ["ipv4-compatible 127.0.0.1"]);
    assert.deepEqual(carried("::1"), ["ipv4-compatible 0.0.0.1"]);
  });

  test("NAT64: the well-known prefix /96, and local-use 64:ff9b:1::/48 at each RFC 6052 length", () => {
    assert.deepEqual(carried("64:ff9b::10.0.0.1"), ["nat64 10.0.0.1"]);
    assert.deepEqual(carried("64:ff9b:1::10.0.0.1"), ["nat64 local-use /96 10.0.0.1"]);
    // /48: bits 48-63 and 72-87, with the u octet (64-71) and the suffix zero.
    assert.deepEqual(carried("64:ff9b:1:a9fe:a9:fe00::"), [
      "nat64 local-use /48 169.254.169.254",
      "nat64 local-use /56 254.169.254.0",
      "nat64 local-use /64 169.254.0.0",
      "nat64 local-use /96 0.0.0.0",
    ]);
    // /64: bits 72-103.
    assert.ok(carried("64:ff9b:1:0:a:0:100::").includes("nat64 local-use /64 10.0.0.1"));
    // A readable /96 address is not read at shorter lengths whose zero bits are not zero.
    assert.deepEqual(carried("64:ff9b:1::808:808"), ["nat64 local-use /96 8.8.8.8"]);
  });

  test("6to4 (bits 16-47) and Teredo (server in bits 32-63, client inverted in the last 32)", () => {
    assert.deepEqual(carried("2002:a9fe:a9fe::1"), ["6to4 169.254.169.254"]);
    // RFC 4380's example: server 65.54.227.120, client 192.0.2.45.
    assert.deepEqual(carried("2001:0:4136:e378:8000:63bf:3fff:fdd2"), [
      "teredo server 65.54.227.120",
      "teredo client 192.0.2.45",
    ]);
    assert.deepEqual(carried("2001:4860::8888"), []);
    assert.deepEqual(carried("2606:4700:4700::1111"), []);
  });
});

describe("network: embedded IPv4 is checked against the IPv4 ranges", () => {
  const check = netPolicy(PRIVATE);

  test("[::127.0.0.1] is denied as 127.0.0.1", () => {
    denied(check({ url: "http://[::127.0.0.1]:8080/" }), "/arguments/url", /carries IPv4 `127\.0\.0\.1`/);
    denied(check({ host: "::169.254.169.254" }));
  });

  test("NAT64 /96 and local-use /48 addresses carrying a private IPv4 are denied", () => {
    denied(check({ url: "http://[64:ff9b::a9fe:a9fe]/" }), "/arguments/url", /\(nat64\)/);
    denied(check({ url: "http://[64:ff9b:1::10.0.0.1]/" }));
    denied(check({ url: "http://[64:ff9b:1:a9fe:a9:fe00::]/" }), "/arguments/url", /169\.254\.169\.254/);
    allowed(check({ url: "http://[64:ff9b::8.8.8.8]/" }));
    allowed(check({ url: "http://[64:ff9b:1::8.8.8.8]/" }));
  });

  test("6to4 and Teredo addresses carrying a private IPv4 are denied", () => {
    denied(check({ url: "http://[2002:c0a8:101::1]/" }), "/arguments/url", /\(6to4\)/);
    denied(check({ url: "http://[2001:0:a00:1::1]/" }), "/arguments/url", /teredo server/);
    // Client 10.0.0.1 is stored inverted: f5ff:fffe.
    denied(check({ url: "http://[2001:0:808:808::f5ff:fffe]/" }), "/arguments/url", /teredo client/);
    allowed(check({ url: "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/" }));
  });

  test("allow_cidrs: an IPv6 address carrying IPv4 passes as itself or when all it carries is allowed", () => {
    const check4 = netPolicy({ allow_cidrs: ["192.168.0.0/16"] });
    allowed(check4({ url: "http://[::ffff:192.168.1.1]/" }));
    allowed(check4({ url: "http://[2002:c0a8:101::1]/" }));
    denied(check4({ url: "http://[2001:0:c0a8:101::f5ff:fffe]/" })); // client 10.0.0.1
    const check6 = netPolicy({ allow_cidrs: ["2002::/16"] });
    allowed(check6({ url: "http://[2002:a00:1::1]/" }));
  });
});

// node:net's isIP says what is an IP literal; ipaddr.js 2.5 refused zone ids other than letters
// and digits (the address then went unchecked: `{"host":"fe80::1%eth-0"}` passed mcp-baseline)
// and read `::a.b.c.d` as IPv4-mapped. WHATWG's URL parser is the oracle for the bits.
describe("ip bits: every IPv6 literal isIP accepts is read as WHATWG reads it", () => {
  const whatwg = (ip: string) => ipBits(new URL(`http://[${ip}]/`).hostname.slice(1, -1));
  // The zone ids isIP takes: letters, digits, `-`, `.` and `:`.
  const zone = fc.stringMatching(/^[A-Za-z0-9.:-]{1,12}$/);

  test("with and without a zone id", () => {
    fc.assert(
      fc.property(fc.ipV6(), fc.option(zone, { nil: undefined }), (ip, z) => {
        const text = z === undefined ? ip : `${ip}%${z}`;
        assert.equal(isIP(text), 6, text);
        assert.deepEqual(ipBits(text), whatwg(ip), text);
      }),
      { numRuns: 1000 },
    );
  });

  test("a trailing dotted IPv4 part is the two hex groups it stands for", () => {
    assert.deepEqual(carried("::127.0.0.1"), ["ipv4-compatible 127.0.0.1"]);
    assert.deepEqual(carried("::ffff:127.0.0.1"), ["ipv4-mapped 127.0.0.1"]);
    assert.deepEqual(ipBits("1:2:3:4:5:6:1.2.3.4"), whatwg("1:2:3:4:5:6:1.2.3.4"));
    assert.deepEqual(ipBits("fe80::1%eth-0"), ipBits("fe80::1"));
  });
});

describe("network: zone ids and dotted IPv4 parts in hosts and CIDRs", () => {
  const check = netPolicy(PRIVATE);

  test("a link-local or loopback host with a zone id of any spelling is denied", () => {
    for (const host of ["fe80::1%eth-0", "fe80::1%br-1a2b3c", "fe80::1%en0.1", "::1%lo-1", "fe80::1%eth0"])
      denied(check({ host }), "/arguments/host", /is in denied range/);
    allowed(check({ host: "2606:4700::1%eth-0" }));
  });

  test("a CIDR's zone id is dropped and its dotted IPv4 part read as WHATWG reads it", () => {
    const zoned = netPolicy({ deny_cidrs: ["fe80::1%eth-0/10"] });
    denied(zoned({ host: "fe80::1" }));
    allowed(zoned({ host: "::1" }));
    const compat = netPolicy({ deny_cidrs: ["::127.0.0.1/128"] });
    denied(compat({ url: "http://[::127.0.0.1]/" }));
    allowed(compat({ host: "::ffff:127.0.0.1" }));
  });

  test("an IP entry in deny_hosts or allow_hosts matches every spelling of its address", () => {
    const deny = netPolicy({ deny_hosts: ["::1"] });
    for (const host of ["::1", "::1%lo", "::0:1", "0:0:0:0:0:0:0:1"])
      denied(deny({ host }), "/arguments/host", /is a denied host/);
    denied(deny({ url: "http://[0::1]:8080/" }));
    allowed(deny({ host: "::2" }));
    denied(netPolicy({ deny_hosts: ["0::1"] })({ url: "http://[::1]/" }));
    const allow = netPolicy({ allow_hosts: ["::1", "10.0.0.1"] });
    allowed(allow({ host: "0::1%lo" }));
    allowed(allow({ host: "10.0.0.1" }));
    denied(allow({ host: "::2" }), "/arguments/host", /not in the allowed hosts/);
    denied(allow({ host: "10.0.0.2" }));
  });

  test("an IP literal that cannot be read is refused where ranges are denied (fail closed)", () => {
    const ir = compileNetwork({ deny_cidrs: ["10.0.0.0/8"] }, "/n");
    const target = {
      pointer: "/arguments/host",
      raw: "x",
      note: "",
      scheme: null,
      host: "x",
      ip: "x",
      bits: null,
      port: null,
    };
    const findings = evaluateNetwork(ir, {}, { targets: [target], unreadable: [], overflow: null });
    assert.deepEqual(
      findings.map((f) => f.message),
      ["`x` is an IP address that cannot be read"],
    );
  });
});
