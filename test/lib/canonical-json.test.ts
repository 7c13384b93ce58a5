import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import { canonicalDigest, canonicalJson, sha256Digest } from "../../src/lib/canonical-json.js";

/** The double with the given IEEE 754 bit pattern (RFC 8785 appendix B lists numbers this way). */
function double(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

describe("canonical JSON (RFC 8785)", () => {
  test("the example of section 3.2.3: whitespace, key order, numbers, string escapes", () => {
    const input = JSON.parse(
      '{"numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],' +
        ' "string": "\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/",' +
        ' "literals": [null, true, false]}',
    );
    assert.equal(
      canonicalJson(input),
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],' +
        '"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  test("keys sort by UTF-16 code units (section 3.2.3's sorting example)", () => {
    const input = {
      "\u20ac": "Euro Sign",
      "\r": "Carriage Return",
      "\ufb33": "Hebrew Letter Dalet With Dagesh",
      "1": "One",
      "\ud83d\ude00": "Emoji: Grinning Face",
      "\u0080": "Control",
      "\u00f6": "Latin Small Letter O With Diaeresis",
    };
    // Object.keys would list "1" first (integer-like keys), so read the order from the text.
    assert.equal(
      canonicalJson(input),
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  test("number serialization (appendix B)", () => {
    const vectors: [string, string][] = [
      ["0000000000000000", "0"],
      ["8000000000000000", "0"],
      ["0000000000000001", "5e-324"],
      ["8000000000000001", "-5e-324"],
      ["7fefffffffffffff", "1.7976931348623157e+308"],
      ["ffefffffffffffff", "-1.7976931348623157e+308"],
      ["4340000000000000", "9007199254740992"],
      ["c340000000000000", "-9007199254740992"],
      ["4430000000000000", "295147905179352830000"],
      ["44b52d02c7e14af5", "9.999999999999997e+22"],
      ["44b52d02c7e14af6", "1e+23"],
      ["44b52d02c7e14af7", "1.0000000000000001e+23"],
      ["444b1ae4d6e2ef4e", "999999999999999700000"],
      ["444b1ae4d6e2ef4f", "999999999999999900000"],
      ["444b1ae4d6e2ef50", "1e+21"],
      ["3eb0c6f7a0b5ed8c", "9.999999999999997e-7"],
      ["3eb0c6f7a0b5ed8d", "0.000001"],
      ["41b3de4355555553", "333333333.3333332"],
      ["41b3de4355555554", "333333333.33333325"],
      ["41b3de4355555555", "333333333.3333333"],
      ["41b3de4355555556", "333333333.3333334"],
      ["41b3de4355555557", "333333333.33333343"],
      ["becbf647612f3696", "-0.0000033333333333333333"],
      ["43143ff3c1cb0959", "1424953923781206.2"],
    ];
    for (const [bits, expected] of vectors) assert.equal(canonicalJson(double(bits)), expected, bits);
    assert.equal(canonicalJson(0.1), "0.1");
    assert.equal(canonicalJson(-0), "0");
    assert.equal(canonicalJson(1e21), "1e+21");
    assert.equal(canonicalJson(1e20), "100000000000000000000");
  });

  test("NaN and infinities have no canonical form", () => {
    for (const n of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      assert.throws(() => canonicalJson(n));
      assert.throws(() => canonicalJson({ a: [n] }));
    }
    assert.throws(() => canonicalJson(undefined), TypeError);
  });

  test("nested objects sort at every level; arrays keep their order; undefined members are dropped", () => {
    assert.equal(
      canonicalJson({ b: [3, { z: 1, a: 2 }], a: { d: null, c: "x" }, u: undefined }),
      '{"a":{"c":"x","d":null},"b":[3,{"a":2,"z":1}]}',
    );
  });

  test("digests: `sha256:` + hex of the canonical text", () => {
    const hex = createHash("sha256").update('{"a":1,"b":2}').digest("hex");
    assert.equal(canonicalDigest({ b: 2, a: 1 }), `sha256:${hex}`);
    assert.equal(sha256Digest('{"a":1,"b":2}'), `sha256:${hex}`);
    assert.equal(sha256Digest(new TextEncoder().encode('{"a":1,"b":2}')), `sha256:${hex}`);
    assert.equal(sha256Digest(""), "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  });
});
