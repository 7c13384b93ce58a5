import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { compileNetwork } from "../../src/policy/network-ir.js";

// A pack from the pack cache was compiled by this build before, so its CIDRs are not run through
// `isIP` again (its IPv6 regex costs milliseconds to compile at start-up): the family is read from
// the address. The IR must be the one a fresh compile builds.

const octet = fc.integer({ min: 0, max: 255 });
const v4Cidr = fc
  .tuple(octet, octet, octet, octet, fc.option(fc.integer({ min: 0, max: 32 }), { nil: undefined }))
  .map(([a, b, c, d, p]) => `${a}.${b}.${c}.${d}${p === undefined ? "" : `/${p}`}`);
const v6Cidr = fc
  .tuple(fc.ipV6(), fc.option(fc.integer({ min: 0, max: 128 }), { nil: undefined }))
  .map(([a, p]) => `${a}${p === undefined ? "" : `/${p}`}`);

describe("compileNetwork of a check compiled before (the pack cache)", () => {
  test("builds the same CIDR sets as a fresh compile", () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(v4Cidr, v6Cidr), { minLength: 1, maxLength: 6 }), (cidrs) => {
        const check = { deny_cidrs: cidrs, allow_cidrs: [...cidrs].reverse() };
        assert.deepEqual(compileNetwork(check, "/n", true), compileNetwork(check, "/n", false));
      }),
      { numRuns: 300 },
    );
  });

  test("the baseline's ranges, IPv4-mapped and embedded-IPv4 forms included", () => {
    const check = {
      deny_cidrs: ["10.0.0.0/8", "169.254.0.0/16", "::/128", "::1/128", "fc00::/7", "fe80::/10"],
      allow_cidrs: ["::ffff:10.0.0.0/104", "64:ff9b::1.2.3.4/128", "0.0.0.0"],
    };
    assert.deepEqual(compileNetwork(check, "/n", true), compileNetwork(check, "/n", false));
  });

  test("a damaged entry's CIDR that is no address of its family throws, so the pack is compiled afresh", () => {
    for (const cidr of ["not-an-ip/8", "1.2.3.4.5", "::g/64", "300.1.1.1"])
      assert.throws(
        () => compileNetwork({ deny_cidrs: [cidr] }, "/n", true),
        /is not an address of its family/,
      );
  });

  test("a fresh compile still refuses them with the pack error", () => {
    for (const cidr of ["not-an-ip/8", "10.0.0/8", "1.2.3.4.5", "::g/64", "300.1.1.1"])
      assert.throws(() => compileNetwork({ deny_cidrs: [cidr] }, "/n"), { code: "pack_invalid_cidr" });
  });
});
