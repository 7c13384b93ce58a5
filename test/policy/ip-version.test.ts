import assert from "node:assert/strict";
import { isIP } from "node:net";
import { describe, test } from "node:test";
import fc from "fast-check";
import { ipVersion } from "../../src/policy/read-destination.js";

// ipVersion stands in for node:net's isIP (whose IPv6 regex costs milliseconds to compile on first
// use): what is an IP literal decides which checks a destination gets, so it must give isIP's
// answer for every string. isIP itself is the oracle.

const same = (s: string) => assert.equal(ipVersion(s), isIP(s), JSON.stringify(s));

const zone = fc.stringMatching(/^[A-Za-z0-9.:_%~ -]{0,6}$/);
const withZone = (addr: fc.Arbitrary<string>) =>
  fc.tuple(addr, fc.option(zone, { nil: undefined })).map(([a, z]) => (z === undefined ? a : `${a}%${z}`));

/** One edit (insert, delete, replace) of `s` with a character from near the grammar. */
const edited = (addr: fc.Arbitrary<string>) =>
  fc
    .tuple(
      addr,
      fc.nat(),
      fc.constantFrom(...":.%0123456789abcdefABCDEFg- z"),
      fc.constantFrom("ins", "del", "rep"),
    )
    .map(([s, at, c, op]) => {
      const i = s.length === 0 ? 0 : at % (s.length + (op === "ins" ? 1 : 0));
      if (op === "ins") return s.slice(0, i) + c + s.slice(i);
      if (op === "del") return s.slice(0, i) + s.slice(i + 1);
      return s.slice(0, i) + c + s.slice(i + 1);
    });

describe("ipVersion gives node:net isIP's answer", () => {
  test("for IPv4 and IPv6 addresses, with and without zone ids", () => {
    fc.assert(
      fc.property(withZone(fc.oneof(fc.ipV4(), fc.ipV6(), fc.ipV4Extended())), (s) => same(s)),
      {
        numRuns: 5000,
      },
    );
  });

  test("for addresses one edit away", () => {
    fc.assert(
      fc.property(edited(withZone(fc.oneof(fc.ipV4(), fc.ipV6()))), (s) => same(s)),
      {
        numRuns: 20000,
      },
    );
  });

  test("for short strings over the grammar's characters", () => {
    const text = fc
      .array(fc.constantFrom(..."0123456789abcdefABCDEF:.%-"), { maxLength: 24 })
      .map((cs) => cs.join(""));
    fc.assert(
      fc.property(text, (s) => same(s)),
      { numRuns: 20000 },
    );
  });

  test("at the edges of the grammar", () => {
    for (const s of [
      "",
      "::",
      ":",
      ":::",
      "1::",
      "::1",
      "1:2:3:4:5:6:7::",
      "::2:3:4:5:6:7:8",
      "1:2:3:4:5:6:7:8",
      "1:2:3:4:5:6:7:8:9",
      "1:2:3:4:5:6:7::8",
      "1::2::3",
      "1:2:3:4:5:6:1.2.3.4",
      "1:2:3:4:5::1.2.3.4",
      "1:2:3:4:5:6::1.2.3.4",
      "::1.2.3.4",
      "::ffff:1.2.3.4",
      "1.2.3.4::",
      "::01.2.3.4",
      "::1.2.3.256",
      "fe80::1%eth-0",
      "fe80::1%en0.1",
      "fe80::1%a:b",
      "fe80::1%",
      "fe80::1%a_b",
      "fe80::1%%",
      "1.2.3.4%eth0",
      "00000::",
      "0000::",
      "FFFF::",
      "1.2.3",
      "1.2.3.4.5",
      "01.2.3.4",
      "0.0.0.0",
      "255.255.255.255",
      "256.1.1.1",
      " 1.2.3.4",
      "1.2.3.4\n",
      "::1\n",
    ])
      same(s);
  });
});
