import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { ambiguousKey, ambiguousKeyDeep, foldKey } from "../../src/gate/key-folding.js";

test("keys equal once case is folded, or folding onto a field they are not, are ambiguous", () => {
  assert.equal(ambiguousKey({ path: 1, PATH: 2 }), "PATH");
  assert.equal(ambiguousKey({ method: "ping", Method: "x" }, ["method"]), "Method");
  assert.equal(ambiguousKey({ paramſ: 1 }, ["params"]), "paramſ", "long s folds to s");
  assert.equal(ambiguousKey({ \u212aey: 1 }, ["key"]), "\u212aey", "the Kelvin sign folds to k");
  assert.equal(ambiguousKey({ inputschema: {} }, ["inputSchema"]), "inputschema");
  assert.equal(
    ambiguousKey({ "stra\u00dfe": 1, "STRA\u1e9eE": 2 }),
    "STRA\u1e9eE",
    "\u00df and \u1e9e, equal to Go",
  );
  assert.equal(
    ambiguousKey({ method: "ping", params: {}, inputSchema: 1 }, ["method", "inputSchema"]),
    undefined,
  );
  assert.equal(ambiguousKey({ filePath: "a", maxBytes: 1 }), undefined);
  assert.equal(ambiguousKeyDeep({ a: [{ b: { x: 1, X: 2 } }] }), "/a/0/b/X");
  assert.equal(ambiguousKeyDeep({ "a/b": { "c~": 1, "C~": 2 } }), "/a~1b/C~0");
  assert.equal(ambiguousKeyDeep({ a: [1, "x", null, { b: 2 }] }), undefined);
});

test("a `__proto__` key is ambiguous wherever it is, even among keys found fine before", () => {
  const fields = ["method", "params"] as const;
  assert.equal(ambiguousKey({ method: "ping", params: {} }, fields), undefined);
  assert.equal(ambiguousKey(JSON.parse('{"method":"ping","params":{},"__proto__":{}}'), fields), "__proto__");
  assert.equal(ambiguousKey(JSON.parse('{"__proto__":{"mode":"write"}}')), "__proto__");
  assert.equal(ambiguousKeyDeep(JSON.parse('{"a":[{"b":{"__proto__":{"mode":"w"}}}]}')), "/a/0/b/__proto__");
  // Read as JavaScript source, `__proto__:` sets the prototype: no own key, nothing to refuse.
  assert.equal(ambiguousKey({ __proto__: { mode: "write" }, x: 1 }), undefined);
  assert.equal(ambiguousKey({ proto: 1, _proto_: 2 }), undefined);
});

test("property: an object is ambiguous exactly when two of its keys fold alike", () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.string({ maxLength: 4 }), { maxLength: 6 }), (keys) => {
      const obj = Object.fromEntries(keys.map((k) => [k, 1]));
      const folds = new Set(Object.keys(obj).map(foldKey));
      assert.equal(ambiguousKey(obj) !== undefined, folds.size < Object.keys(obj).length);
    }),
  );
});

test("keys found fine before still count against a key that comes with them later", () => {
  // ambiguousKey remembers plain keys it has passed, per list of fields: an object with one of
  // them and a new key must still be judged whole.
  const fields = ["method", "params"] as const;
  assert.equal(ambiguousKey({ method: "ping", params: {}, path: 1 }, fields), undefined);
  assert.equal(ambiguousKey({ method: "ping", params: {}, path: 1 }, fields), undefined, "again");
  assert.equal(ambiguousKey({ path: 1, PATH: 2, method: "x" }, fields), "PATH");
  assert.equal(ambiguousKey({ method: "x", Method: "y" }, fields), "Method");
  assert.equal(ambiguousKey({ params: {}, paramſ: 1 }, fields), "paramſ");
  // A key plain for one list of fields is not thereby fine for another it folds onto.
  assert.equal(ambiguousKey({ inputschema: 1 }), undefined);
  assert.equal(ambiguousKey({ inputschema: 1 }, ["inputSchema"]), "inputschema");
});

test("property: the same answers in any order of calls, whatever was seen before", () => {
  const key = fc.constantFrom(
    "a",
    "A",
    "path",
    "PATH",
    "method",
    "Method",
    "ſ",
    "s",
    "S",
    "k",
    "\u212a",
    "x_1",
    "inputschema",
    "inputSchema",
  );
  const call = fc.record({
    keys: fc.uniqueArray(key, { maxLength: 5 }),
    withFields: fc.boolean(),
  });
  fc.assert(
    fc.property(fc.array(call, { maxLength: 8 }), (calls) => {
      for (const { keys, withFields } of calls) {
        const obj = Object.fromEntries(keys.map((k) => [k, 1]));
        const fields = withFields ? FIELDS : [];
        const folds = new Map<string, string>();
        let expected: string | undefined;
        for (const k of Object.keys(obj)) {
          const f = foldKey(k);
          const field = fields.find((x) => foldKey(x) === f);
          if (folds.has(f) || (field !== undefined && field !== k)) {
            expected = k;
            break;
          }
          folds.set(f, k);
        }
        assert.equal(ambiguousKey(obj, withFields ? FIELDS : undefined), expected, JSON.stringify(keys));
      }
    }),
  );
});

const FIELDS = ["method", "s", "inputSchema"] as const;
