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

test("property: an object is ambiguous exactly when two of its keys fold alike", () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.string({ maxLength: 4 }), { maxLength: 6 }), (keys) => {
      const obj = Object.fromEntries(keys.map((k) => [k, 1]));
      const folds = new Set(Object.keys(obj).map(foldKey));
      assert.equal(ambiguousKey(obj) !== undefined, folds.size < Object.keys(obj).length);
    }),
  );
});
