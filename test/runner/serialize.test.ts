import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { artifactJson, byteSort, compareUtf8, ndjsonLine, prettyJson } from "../../src/runner/serialize.js";

/** Strings of astral characters, BMP characters above the surrogates, ASCII and lone surrogates. */
const unit = fc.oneof(
  fc.constantFrom("a", "z", "/", "\u00e9", "\uff5e", "\ufffd", "\u{1f600}", "\u{10ffff}", "\ud800", "\udfff"),
  fc.string({ unit: "binary", minLength: 1, maxLength: 1 }),
  fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
);
const text = fc.array(unit, { maxLength: 6 }).map((parts) => parts.join(""));

function bytesOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

describe("byteSort orders sets by UTF-8 bytes, as the contract's Rust BTreeSet does", () => {
  test("compareUtf8 agrees with Buffer.compare on any two strings (astral, lone surrogates included)", () => {
    fc.assert(
      fc.property(text, text, (a, b) => {
        assert.equal(
          Math.sign(compareUtf8(a, b)),
          bytesOrder(a, b),
          `${JSON.stringify(a)} vs ${JSON.stringify(b)}`,
        );
      }),
      { numRuns: 5000 },
    );
  });

  test("the result is the input's distinct strings in Buffer.compare order", () => {
    fc.assert(
      fc.property(fc.array(text, { maxLength: 30 }), (strings) => {
        const sorted = byteSort(strings);
        assert.deepEqual(new Set(sorted), new Set(strings));
        assert.equal(sorted.length, new Set(strings).size);
        for (let i = 1; i < sorted.length; i++)
          assert.ok(bytesOrder(sorted[i - 1] as string, sorted[i] as string) <= 0, JSON.stringify(sorted));
      }),
      { numRuns: 2000 },
    );
  });

  test("well-formed strings come out strictly ascending by bytes, whatever the input order", () => {
    const wellFormed = fc.string({ unit: "binary", maxLength: 8 });
    fc.assert(
      fc.property(fc.array(wellFormed, { maxLength: 30 }), (strings) => {
        const sorted = byteSort(strings);
        for (let i = 1; i < sorted.length; i++)
          assert.ok(bytesOrder(sorted[i - 1] as string, sorted[i] as string) < 0);
        assert.deepEqual(byteSort([...strings].reverse()), sorted);
      }),
      { numRuns: 2000 },
    );
  });

  test("an astral character sorts after U+FF5E, unlike JavaScript's default sort", () => {
    const strings = ["\u{1f600}", "\uff5e", "b", "a", "b"];
    assert.deepEqual([...strings].sort(), ["a", "b", "b", "\u{1f600}", "\uff5e"]);
    assert.deepEqual(byteSort(strings), ["a", "b", "\uff5e", "\u{1f600}"]);
  });

  test("accepts any iterable", () => {
    assert.deepEqual(byteSort(new Set(["b", "a"])), ["a", "b"]);
    assert.deepEqual(byteSort([]), []);
  });
});

describe("artifact text", () => {
  test("JSON artifacts are compact with no newline; NDJSON lines end in one; keys keep their built order", () => {
    const doc = { schema: "s", run_id: "r", b: [1], a: "/x\u00e9\n" };
    assert.equal(artifactJson(doc), '{"schema":"s","run_id":"r","b":[1],"a":"/x\u00e9\\n"}');
    assert.equal(ndjsonLine(doc), `${artifactJson(doc)}\n`);
    assert.equal(prettyJson({ a: [] }), '{\n  "a": []\n}\n');
  });

  test("control characters are escaped as serde_json escapes them (lowercase \\u00xx), DEL and / are not", () => {
    assert.equal(
      artifactJson({ v: "\u0001\u001f\b\f\t\r\u007f/" }),
      '{"v":"\\u0001\\u001f\\b\\f\\t\\r\u007f/"}',
    );
  });
});
