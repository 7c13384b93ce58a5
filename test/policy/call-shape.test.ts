import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { shapeCall } from "../../src/policy/call-shape.js";
import { compilePolicy, DEFAULT_CALL_LIMITS } from "../../src/policy/compile.js";
import { decide } from "../../src/policy/decide.js";
import { pack, rule } from "./helpers.js";

const LIMITS = DEFAULT_CALL_LIMITS;
const refusal = (value: unknown, limits = LIMITS) => {
  const s = shapeCall(value, limits);
  assert.equal(s.ok, false);
  return s as { ok: false; reason: string; path: string };
};

describe("call shape", () => {
  test("accepts {tool, arguments}, {name, arguments} and whole tools/call requests", () => {
    const expected = { ok: true, call: { tool: "t", arguments: { a: 1 } } };
    assert.deepEqual(shapeCall({ tool: "t", arguments: { a: 1 } }, LIMITS), expected);
    assert.deepEqual(shapeCall({ name: "t", arguments: { a: 1 } }, LIMITS), expected);
    assert.deepEqual(
      shapeCall(
        { jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "t", arguments: { a: 1 } } },
        LIMITS,
      ),
      expected,
    );
  });

  test("missing or null arguments are empty arguments", () => {
    assert.deepEqual(shapeCall({ tool: "t" }, LIMITS), { ok: true, call: { tool: "t", arguments: {} } });
    assert.deepEqual(shapeCall({ tool: "t", arguments: null }, LIMITS), {
      ok: true,
      call: { tool: "t", arguments: {} },
    });
  });

  test("call_invalid: not an object, no tool, a bad tool name, arguments not an object", () => {
    for (const v of [null, undefined, 1, "tool", true, [], [{ tool: "t" }]]) {
      assert.deepEqual([refusal(v).reason, refusal(v).path], ["call_invalid", ""]);
    }
    for (const v of [{}, { tool: "" }, { tool: 5 }, { name: null }, { tool: "x".repeat(257) }]) {
      assert.deepEqual([refusal(v).reason, refusal(v).path], ["call_invalid", "/tool"]);
    }
    for (const args of [[], [1, 2], "a=1", 7, true]) {
      assert.deepEqual(
        [refusal({ tool: "t", arguments: args }).reason, refusal({ tool: "t", arguments: args }).path],
        ["call_invalid", "/arguments"],
      );
    }
  });

  test("call_invalid: JSON-RPC requests other than tools/call, or without params", () => {
    assert.equal(refusal({ jsonrpc: "2.0", method: "tools/list" }).path, "/method");
    assert.equal(refusal({ method: "tools/call" }).path, "/params");
    assert.equal(refusal({ method: "tools/call", params: [] }).path, "/params");
    assert.equal(refusal({ jsonrpc: "2.0", tool: "t" }).path, "/method");
  });

  test("call_too_large: depth, one long string, total size; each at its pointer", () => {
    let deep: unknown = 1;
    for (let i = 0; i < 1000; i++) deep = { "a/b": deep };
    const d = refusal({ tool: "t", arguments: deep });
    assert.equal(d.reason, "call_too_large");
    assert.ok(d.path.startsWith("/arguments/a~1b/a~1b"));

    const s = refusal({ tool: "t", arguments: { x: [0, "y".repeat(LIMITS.maxStringLength + 1)] } });
    assert.deepEqual([s.reason, s.path], ["call_too_large", "/arguments/x/1"]);

    const chunk = "z".repeat(LIMITS.maxStringLength);
    const total = refusal({ tool: "t", arguments: { a: chunk, b: chunk, c: chunk, d: chunk, e: chunk } });
    assert.deepEqual([total.reason, total.path], ["call_too_large", "/arguments"]);
  });

  test("arguments just inside the limits are accepted", () => {
    let deep: unknown = 1;
    for (let i = 0; i < LIMITS.maxDepth; i++) deep = { a: deep };
    assert.equal(shapeCall({ tool: "t", arguments: deep }, LIMITS).ok, true);
    assert.equal(refusal({ tool: "t", arguments: { a: deep } }).reason, "call_too_large");
    assert.equal(
      shapeCall({ tool: "t", arguments: { s: "y".repeat(LIMITS.maxStringLength) } }, LIMITS).ok,
      true,
    );
  });

  test("a cyclic argument is refused, not followed forever", () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.equal(refusal({ tool: "t", arguments: cyclic }).reason, "call_too_large");
  });

  test("compile options set the limits", () => {
    const policy = compilePolicy([pack("p", [rule("r", { tools: { allow: ["t"] } })])], {
      limits: { maxDepth: 2, maxStringLength: 4 },
    });
    assert.deepEqual(policy.limits, { ...DEFAULT_CALL_LIMITS, maxDepth: 2, maxStringLength: 4 });
    assert.equal(decide(policy, { tool: "t", arguments: { a: "1234" } }).effect, "allow");
    assert.equal(decide(policy, { tool: "t", arguments: { a: "12345" } }).reason_code, "call_too_large");
    assert.equal(decide(policy, { tool: "t", arguments: { a: { b: 1 } } }).effect, "allow");
    assert.equal(
      decide(policy, { tool: "t", arguments: { a: { b: { c: 1 } } } }).reason_code,
      "call_too_large",
    );
  });
});
