import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { plainClone } from "../../src/gate/plain-clone.js";

describe("plainClone", () => {
  test("gives what structuredClone gives, for any value fast-check makes", () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withNullPrototype: true, withSparseArray: true }), (v) => {
        assert.deepStrictEqual(plainClone(v), structuredClone(v));
      }),
      { numRuns: 500, seed: 20261206 },
    );
  });

  test("a copy: changing the original afterwards changes nothing", () => {
    const msg = {
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "echo", arguments: { a: [1, { b: 2 }] } },
    };
    const copy = plainClone(msg);
    msg.params.name = "exec";
    (msg.params.arguments.a[1] as { b: number }).b = 3;
    assert.equal(copy.params.name, "echo");
    assert.deepEqual(copy.params.arguments, { a: [1, { b: 2 }] });
  });

  test("what is not plain data is left to structuredClone", () => {
    const shared = { x: 1 };
    const withShared = plainClone({ a: shared, b: shared });
    assert.equal(withShared.a, withShared.b, "sharing kept");
    const cyclic: Record<string, unknown> = { n: 1 };
    cyclic.self = cyclic;
    const c = plainClone(cyclic);
    assert.equal(c.self, c);
    const date = new Date(0);
    assert.ok(plainClone({ d: date }).d instanceof Date);
    assert.ok(plainClone(new Map([[1, 2]])) instanceof Map);
    const sparse = [1, 2, 3];
    delete sparse[1];
    assert.deepStrictEqual(plainClone(sparse), structuredClone(sparse));
    const extra = Object.assign([1, 2], { note: "x" });
    assert.deepStrictEqual(plainClone(extra), structuredClone(extra));
    const proto = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}');
    const p = plainClone(proto);
    assert.deepStrictEqual(p, structuredClone(proto));
    assert.equal(Object.getPrototypeOf(p), Object.prototype);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.throws(() => plainClone({ f: () => 1 }), { name: "DataCloneError" });
    assert.throws(() => plainClone({ s: Symbol("s") }), { name: "DataCloneError" });
    let deep: unknown = 0;
    for (let i = 0; i < 200; i++) deep = [deep];
    assert.deepStrictEqual(plainClone(deep), deep);
  });
});
