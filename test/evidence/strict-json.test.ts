import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { parseStrictJson, StrictJsonError } from "../../src/evidence/strict-json.js";

function failure(text: string, maxDepth?: number): StrictJsonError {
  try {
    parseStrictJson(text, maxDepth === undefined ? {} : { maxDepth });
  } catch (err) {
    if (err instanceof StrictJsonError) return err;
    throw err;
  }
  assert.fail(`expected \`${text}\` to be refused`);
}

// JSON without duplicate keys, lone surrogates or numbers a double cannot hold: what JSON.parse
// reads the same way the strict parser must.
const ijson = fc.jsonValue({ depthSize: "small", maxDepth: 8 });

describe("strict JSON: agrees with JSON.parse on I-JSON", () => {
  test("compact and pretty-printed text parse to the same value as JSON.parse", () => {
    fc.assert(
      fc.property(ijson, fc.constantFrom(undefined, 1, 2, "\t"), (v, indent) => {
        const text = JSON.stringify(v, null, indent);
        assert.deepStrictEqual(parseStrictJson(text), JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  test("random JSON text (fc.json) parses as JSON.parse does", () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 6 }), (text) => {
        assert.deepStrictEqual(parseStrictJson(text), JSON.parse(text));
      }),
      { numRuns: 500 },
    );
  });

  test("whatever the strict parser accepts, JSON.parse accepts with the same value", () => {
    const alphabet = fc.constantFrom(...'{}[]:,"\\ 0123456789-+.eEtruefalsn\n\tab\u00e9');
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 24 }), (chars) => {
        const text = chars.join("");
        let strict: unknown;
        try {
          strict = parseStrictJson(text);
        } catch (err) {
          assert.ok(err instanceof StrictJsonError);
          return;
        }
        assert.deepStrictEqual(strict, JSON.parse(text));
      }),
      { numRuns: 2000 },
    );
  });

  test("text JSON.parse refuses is refused as json_syntax", () => {
    for (const bad of [
      "",
      " ",
      "{",
      "[1,]",
      '{"a":1,}',
      "01",
      "1.",
      ".5",
      "+1",
      "tru",
      '"\\x"',
      '"a\nb"',
      "[1] x",
      "NaN",
      "\u00a0 1",
    ]) {
      assert.throws(() => JSON.parse(bad));
      assert.equal(failure(bad).code, "json_syntax", bad);
    }
  });

  test("__proto__ is an own property, as with JSON.parse", () => {
    const v = parseStrictJson('{"__proto__":{"x":1}}') as Record<string, unknown>;
    assert.deepStrictEqual(Object.getPrototypeOf(v), Object.prototype);
    assert.deepStrictEqual(Object.keys(v), ["__proto__"]);
  });
});

describe("strict JSON: refuses what is not I-JSON, with the position", () => {
  test("duplicate keys (JSON.parse keeps the last silently)", () => {
    const e = failure('{"a":1,\n "b":{"c":1,"c":2}}');
    assert.equal(e.code, "json_duplicate_key");
    assert.equal(e.line, 2);
    assert.equal(e.column, 13);
    assert.equal(failure('{"a":1,"\\u0061":2}').code, "json_duplicate_key");
  });

  test("lone surrogates in strings and in keys; paired ones are fine", () => {
    assert.equal(failure('["\\ud800"]').code, "json_lone_surrogate");
    assert.equal(failure('["\\udc00x"]').code, "json_lone_surrogate");
    assert.equal(failure('["\\ud83d\\u0041"]').code, "json_lone_surrogate");
    assert.equal(failure('{"\\udfff":1}').code, "json_lone_surrogate");
    assert.equal(failure('["\ud800"]').code, "json_lone_surrogate");
    assert.deepStrictEqual(parseStrictJson('["\\ud83d\\ude00","😀"]'), ["😀", "😀"]);
  });

  test("integers beyond 2^53 that a double would round; exact ones pass", () => {
    assert.equal(failure("9007199254740993").code, "json_unsafe_number");
    assert.equal(failure("[-9007199254740993]").code, "json_unsafe_number");
    assert.equal(failure("12345678901234567890").code, "json_unsafe_number");
    assert.equal(parseStrictJson("9007199254740992"), 2 ** 53);
    assert.equal(parseStrictJson("100000000000000000000"), 1e20);
    assert.equal(parseStrictJson("1000000000000000000000"), 1e21);
    // The shortest digits of a double beyond 2^53 print back unchanged: no change of meaning.
    assert.equal(parseStrictJson("-57571001980110410"), -57571001980110410);
    assert.equal(failure("1000000000000000000001").code, "json_unsafe_number");
    assert.equal(parseStrictJson("1.7976931348623157e308"), Number.MAX_VALUE);
    assert.equal(failure("1e400").code, "json_unsafe_number");
  });

  test("numbers: rfc8785 reads every number as its nearest double; only overflow is refused", () => {
    const rfc = (text: string) => parseStrictJson(text, { numbers: "rfc8785" });
    assert.equal(rfc("9007199254740993"), 2 ** 53);
    assert.deepStrictEqual(rfc("[-9007199254740993, 18446744073709551615]"), [-(2 ** 53), 2 ** 64]);
    assert.equal(rfc("1000000000000000000001"), 1e21);
    assert.equal(failure("9007199254740993").code, "json_unsafe_number");
    assert.throws(() => parseStrictJson("9007199254740993", { numbers: "i-json" }), {
      code: "json_unsafe_number",
    });
    for (const bad of ["1e400", "-1e400", "[1, 1e309]"]) {
      assert.throws(() => rfc(bad), { code: "json_unsafe_number" }, bad);
    }
    // Everything else the default refuses stays refused.
    assert.throws(() => rfc('{"a":1,"a":2}'), { code: "json_duplicate_key" });
    assert.throws(() => rfc('["\\ud800"]'), { code: "json_lone_surrogate" });
    assert.throws(() => rfc(`${"[".repeat(65)}${"]".repeat(65)}`), { code: "json_too_deep" });
  });

  test("nesting deeper than the limit", () => {
    assert.equal(failure(`${"[".repeat(65)}${"]".repeat(65)}`).code, "json_too_deep");
    assert.deepStrictEqual(
      parseStrictJson(`${"[".repeat(64)}${"]".repeat(64)}`),
      JSON.parse(`${"[".repeat(64)}${"]".repeat(64)}`),
    );
    assert.equal(failure('{"a":{"b":{}}}', 2).code, "json_too_deep");
  });

  test("strings with any mix of escapes read as JSON.parse reads them", () => {
    const bmp = fc.integer({ min: 0, max: 0xffff }).filter((c) => c < 0xd800 || c > 0xdfff);
    const piece = fc.oneof(
      bmp.map((c) => [String.fromCharCode(c), `\\u${c.toString(16).padStart(4, "0")}`]),
      fc.constantFrom(
        ["\n", "\\n"],
        ['"', '\\"'],
        ["\\", "\\\\"],
        ["/", "\\/"],
        ["\b", "\\b"],
        ["\f", "\\f"],
        ["\r", "\\r"],
        ["\t", "\\t"],
        ["😀", "\\ud83d\\ude00"],
        ["😀", "😀"],
        ["é", "é"],
      ),
    );
    // Short strings are unescaped piece by piece, long ones (past 4096 units) by JSON.parse.
    const filler = fc.constantFrom("", "x".repeat(4090), "é".repeat(5000));
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 30 }),
        filler,
        fc.array(piece, { maxLength: 8 }),
        (a, fill, b) => {
          const pieces = [...a, [fill, fill], ...b];
          const text = `"${pieces.map(([, written]) => written).join("")}"`;
          assert.equal(parseStrictJson(text), pieces.map(([value]) => value).join(""));
        },
      ),
      { numRuns: 3000 },
    );
  });

  test("a character a message could not show (a byte-order mark, a no-break space) is named by its code point", () => {
    assert.throws(() => parseStrictJson("\ufeff{}"), { code: "json_syntax", message: "unexpected U+FEFF" });
    assert.throws(() => parseStrictJson("{}\u00a0"), { message: "unexpected U+00A0 after the value" });
    assert.throws(() => parseStrictJson("{} x"), { message: "unexpected `x` after the value" });
    assert.throws(() => parseStrictJson("{}\u00ad"), { message: "unexpected U+00AD after the value" });
    assert.throws(() => parseStrictJson("\u3000{}"), { message: "unexpected U+3000" });
    assert.throws(() => parseStrictJson("\u201c{}"), { message: "unexpected `\u201c`" });
  });
});
