import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, test } from "node:test";
import { canonicalDigest, canonicalJson, sha256Digest } from "../../src/lib/canonical-json.js";
import { double, RFC8785_NUMBERS } from "./rfc8785-numbers.js";

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
    for (const [bits, expected] of RFC8785_NUMBERS) assert.equal(canonicalJson(double(bits)), expected, bits);
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
