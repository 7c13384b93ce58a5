import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ExactNumber } from "../../src/gate/exact-json.js";
import { classify, errorResponse, peekId, RPC, resultResponse } from "../../src/gate/jsonrpc.js";

describe("classify", () => {
  test("requests, notifications and responses", () => {
    assert.deepEqual(classify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "x" } }), {
      kind: "request",
      id: 1,
      method: "tools/call",
      params: { name: "x" },
    });
    assert.deepEqual(classify({ jsonrpc: "2.0", id: "a", method: "ping" }), {
      kind: "request",
      id: "a",
      method: "ping",
      params: undefined,
    });
    assert.deepEqual(classify({ jsonrpc: "2.0", method: "notifications/initialized" }), {
      kind: "notification",
      method: "notifications/initialized",
      params: undefined,
    });
    assert.deepEqual(classify({ jsonrpc: "2.0", id: 3, result: {} }), { kind: "response", id: 3 });
    assert.deepEqual(classify({ jsonrpc: "2.0", id: null, error: { code: -32700, message: "x" } }), {
      kind: "response",
      id: null,
    });
    assert.deepEqual(classify([{ jsonrpc: "2.0", id: 1, method: "ping" }]), { kind: "batch" });
    assert.deepEqual(classify([]), { kind: "batch" });
  });

  test("invalid messages keep the id when it is a valid one, and never become requests", () => {
    const cases: Array<[unknown, string | number | undefined]> = [
      [null, undefined],
      ["tools/call", undefined],
      [42, undefined],
      [{ id: 1, method: "tools/call" }, 1],
      [{ jsonrpc: "1.0", id: 2, method: "tools/call" }, 2],
      [{ jsonrpc: "2.0", id: 3, method: 7 }, 3],
      [{ jsonrpc: "2.0", id: null, method: "tools/call" }, undefined],
      [{ jsonrpc: "2.0", id: true, method: "tools/call" }, undefined],
      [{ jsonrpc: "2.0", id: { a: 1 }, method: "tools/call" }, undefined],
      [{ jsonrpc: "2.0", id: [1], method: "tools/call" }, undefined],
      [{ jsonrpc: "2.0", id: "s", result: {}, method: undefined }, "s"],
      [{ jsonrpc: "2.0", id: {}, result: {} }, undefined],
      [{ jsonrpc: "2.0", id: 9 }, 9],
    ];
    for (const [msg, id] of cases) {
      const k = classify(msg);
      if (k.kind === "response") {
        // `method: undefined` is still a method key: the message is a request with a bad method.
        assert.fail(`${JSON.stringify(msg)} classified as a response`);
      }
      assert.equal(k.kind, "invalid", JSON.stringify(msg));
      assert.equal(k.kind === "invalid" ? k.id : "not invalid", id, JSON.stringify(msg));
    }
  });

  test("a non-finite number is not an id", () => {
    const k = classify({ jsonrpc: "2.0", id: Number.NaN, method: "tools/call" });
    assert.equal(k.kind, "invalid");
  });
});

describe("peekId", () => {
  test("reads the top-level id of a truncated frame", () => {
    assert.equal(peekId('{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"x","argu'), 7);
    assert.equal(peekId('{"id": "abc" , "method":"tools/call","params":{'), "abc");
    // A number that would not read back as written is kept as written, to answer with.
    assert.deepEqual(peekId('{"id":-12.5e3,"x":'), new ExactNumber("-12.5e3", -12500));
    assert.deepEqual(
      peekId('{"id":9007199254740993,"x":'),
      new ExactNumber("9007199254740993", 9007199254740992),
    );
    assert.equal(peekId('{"id":"a\\"b}","x":'), 'a"b}');
  });

  test("ignores `id` keys that are not at depth 1, or inside strings", () => {
    assert.equal(peekId('{"params":{"id":5},"method":"tools/call"'), undefined);
    assert.equal(peekId('{"method":"\\"id\\":5","params":['), undefined);
    assert.equal(peekId('{"params":["id",{"id":4}],"x":"{\\"id\\":3}"'), undefined);
    assert.equal(peekId('[{"id":1,"method":"tools/call"}'), undefined);
    assert.equal(peekId('{"params":{"a":"}"},"id":8,'), 8);
  });

  test("undefined when unsure: no value yet, not an id type, not a JSON number", () => {
    assert.equal(peekId('{"jsonrpc":"2.0","id"'), undefined);
    assert.equal(peekId('{"jsonrpc":"2.0","id":'), undefined);
    assert.equal(peekId('{"id":null,"method":"x"'), undefined);
    assert.equal(peekId('{"id":true,'), undefined);
    assert.equal(peekId('{"id":{"a":1},'), undefined);
    assert.equal(peekId('{"id":"unterminated'), undefined);
    assert.equal(peekId('{"method":"unterminated'), undefined);
    assert.equal(peekId(""), undefined);
    assert.equal(peekId("not json at all"), undefined);
    assert.equal(peekId('{"id":1e999,'), undefined);
  });

  test("an id JSON would not read is unknown, not a crash", () => {
    // Leading zeros and bad escapes make the frame unparsable; peekId must not throw on them.
    assert.equal(peekId('{"jsonrpc":"2.0","id":01,"method":"tools/call"}'), undefined);
    assert.equal(peekId('{"jsonrpc":"2.0","id":"a\\qb","method":"tools/call"}'), undefined);
    assert.equal(peekId('{"jsonrpc":"2.0","id":"\\u12","method":"tools/call"}'), undefined);
  });
});

describe("responses the gate writes", () => {
  test("error and result shapes", () => {
    assert.deepEqual(errorResponse(1, RPC.invalidParams, "Unknown tool: x"), {
      jsonrpc: "2.0",
      id: 1,
      error: { code: -32602, message: "Unknown tool: x" },
    });
    assert.deepEqual(errorResponse(null, RPC.parseError, "bad", { a: 1 }), {
      jsonrpc: "2.0",
      id: null,
      error: { code: -32700, message: "bad", data: { a: 1 } },
    });
    assert.deepEqual(resultResponse("r", { ok: true }), { jsonrpc: "2.0", id: "r", result: { ok: true } });
  });

  test("the error codes are pinned", () => {
    assert.deepEqual(RPC, {
      parseError: -32700,
      invalidRequest: -32600,
      invalidParams: -32602,
      internalError: -32603,
      policyDenied: -32001,
      serverGone: -32002,
    });
  });
});
