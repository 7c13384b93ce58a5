import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import {
  ExactNumber,
  encodeJson,
  exactSource,
  hasInexactNumber,
  inexactIds,
  parseExact,
  scanJsonText,
} from "../../src/gate/exact-json.js";

/** Number tokens as clients write them: canonical ones and ones re-encoding would change. */
const numberToken = fc.oneof(
  fc.integer().map(String),
  fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }).map(String),
  fc
    .tuple(fc.integer({ min: -999, max: 999 }), fc.stringMatching(/^[0-9]{1,20}$/))
    .map(([i, f]) => `${i}.${f}`),
  fc
    .tuple(
      fc.integer({ min: -99, max: 99 }),
      fc.constantFrom("e", "E"),
      fc.constantFrom("", "+", "-"),
      fc.nat(30),
    )
    .map(([m, e, s, x]) => `${m}${e}${s}${x}`),
  fc.constantFrom("-0", "0", "1.0", "0.1", "0.10000000000000001", "9007199254740993", "1e400", "-1e-400"),
);

/** Keys that keep their place in a JS object (not integer-like) and are unique per object. */
const key = fc.stringMatching(/^[a-z_][a-z0-9_]{0,6}$/);

/** JSON text without whitespace, its objects' members drawn by `members`. */
function jsonTextWith(
  members: (value: fc.Arbitrary<string>) => fc.Arbitrary<[string, string][]>,
): fc.Arbitrary<string> {
  return fc.letrec<{ value: string }>((tie) => ({
    value: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      numberToken,
      fc.string().map((s) => JSON.stringify(s)),
      fc.constantFrom("true", "false", "null"),
      fc.array(tie("value"), { maxLength: 4 }).map((xs) => `[${xs.join(",")}]`),
      members(tie("value")).map((kvs) => `{${kvs.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`),
    ),
  })).value;
}

/** Unique keys: re-encoding must give the text back character for character. */
const jsonText = jsonTextWith((value) =>
  fc.uniqueArray(fc.tuple(key, value), { maxLength: 4, selector: ([k]) => k }),
);

/** With what JSON.parse treats specially: duplicate keys, integer-like keys, `__proto__`. */
const looseText = jsonTextWith((value) =>
  fc.array(fc.tuple(fc.constantFrom("a", "b", "1", "2", "10", "__proto__", "constructor"), value), {
    maxLength: 5,
  }),
);

/** The twin read back as plain values (what JSON.parse gives). */
function plain(v: unknown): unknown {
  if (v instanceof ExactNumber) return v.value;
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === "object") {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v))
      Object.defineProperty(out, k, {
        value: plain((v as never)[k]),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    return out;
  }
  return v;
}

const roundTrip = (text: string) => {
  const parsed = JSON.parse(text);
  return encodeJson(parsed, exactSource(text), parsed);
};

describe("exact JSON", () => {
  test("a message re-encoded keeps every number as written (property)", () => {
    fc.assert(
      fc.property(jsonText, (text) => {
        assert.equal(roundTrip(text), text);
      }),
      { numRuns: 2000, seed: 20261206 },
    );
  });

  test("parseExact reads what JSON.parse reads, whitespace, duplicate keys, integer keys and __proto__ included (property)", () => {
    const spaced = fc.tuple(looseText, fc.constantFrom(" ", "\n", "\t", "\r\n ")).map(([t, ws]) =>
      // Whitespace after every structural character: still valid JSON.
      t.replace(/([{}[\],:])(?=(?:[^"\\]|\\.|"(?:[^"\\]|\\.)*")*$)/g, `$1${ws}`),
    );
    fc.assert(
      fc.property(spaced, (text) => {
        assert.deepEqual(plain(parseExact(text)), JSON.parse(text));
        // Re-encoded, it parses to the same value, with the same key order as JSON.stringify.
        const out = roundTrip(text);
        assert.deepEqual(JSON.parse(out), JSON.parse(text));
        // Without such a number, the output is JSON.stringify's (a duplicate key may drop one).
        if (!hasInexactNumber(text)) assert.equal(out, JSON.stringify(JSON.parse(text)));
      }),
      { numRuns: 500, seed: 7 },
    );
    const tricky = '{"b":1.0,"2":[1e2],"__proto__":{"x":-0},"b":2.50,"1":null,"a":"\\"}\\\\"}';
    assert.deepEqual(plain(parseExact(tricky)), JSON.parse(tricky));
    assert.equal(roundTrip(tricky), '{"1":null,"2":[1e2],"b":2.50,"__proto__":{"x":-0},"a":"\\"}\\\\"}');
  });

  test("JSON.stringify output needs no second reading (property)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        const text = JSON.stringify(v);
        assert.equal(scanJsonText(text).inexact, false);
        assert.equal(exactSource(text), undefined);
      }),
      { numRuns: 1000, seed: 3 },
    );
  });

  test("scanJsonText measures nesting outside strings", () => {
    assert.deepEqual(scanJsonText("1"), { depth: 0, inexact: false });
    assert.deepEqual(scanJsonText('[{"a":"[[[{"},[[]]]'), { depth: 3, inexact: false });
    assert.equal(scanJsonText(`${"[".repeat(600)}${"]".repeat(600)}`).depth, 600);
    assert.equal(scanJsonText('{"id":"9007199254740993"}').inexact, false, "digits in strings are text");
  });

  test("objects made anew keep the numbers of the places they stand for; values the gate changed are its own", () => {
    const text =
      '{"jsonrpc":"2.0","id":1.0,"result":{"tools":[{"name":"a","n":1.50},{"name":"b","n":2.0}],"x":1e1}}';
    const msg = JSON.parse(text);
    const replacement = { ...msg, result: { ...msg.result, tools: [msg.result.tools[1]], x: 11 } };
    assert.equal(
      encodeJson(replacement, exactSource(text), msg),
      '{"jsonrpc":"2.0","id":1.0,"result":{"tools":[{"name":"b","n":2.0}],"x":11}}',
    );
  });

  test("inexactIds names ids that would not read back as written; answers carry them as sent", () => {
    const ids = (t: string) => inexactIds(exactSource(t) ?? { twin: JSON.parse(t) }).map((n) => n.text);
    assert.deepEqual(ids('{"id":9007199254740993,"method":"m","params":{"n":1.0}}'), ["9007199254740993"]);
    assert.deepEqual(ids('{"id":7,"method":"m","params":{"n":1.0}}'), []);
    assert.deepEqual(ids('[{"id":1.0,"method":"a"},{"id":2,"method":"b"},{"id":3e0,"method":"c"}]'), [
      "1.0",
      "3e0",
    ]);
    // The client's answers to the server's requests are not tracked: their ids go on as written.
    assert.deepEqual(ids('{"id":1.0,"result":{}}'), []);
    const answer = {
      jsonrpc: "2.0",
      id: new ExactNumber("9007199254740993", 9007199254740992),
      error: { code: 1 },
    };
    assert.equal(encodeJson(answer), '{"jsonrpc":"2.0","id":9007199254740993,"error":{"code":1}}');
    assert.equal(encodeJson([answer]), '[{"jsonrpc":"2.0","id":9007199254740993,"error":{"code":1}}]');
  });
});
