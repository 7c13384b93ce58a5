import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { accessMode, operationFlags } from "../../src/runner/open-flags.js";

describe("open flags (contract §6)", () => {
  test("access mode is flags & 3", () => {
    assert.deepEqual([0, 1, 2, 3, 0o2000002].map(accessMode), [
      "read",
      "write",
      "read_write",
      "unknown",
      "read_write",
    ]);
  });

  test("operation flags come in the fixed order create, truncate, append, exclusive", () => {
    assert.deepEqual(operationFlags(0o200 | 0o2000 | 0o1000 | 0o100 | 1), [
      "create",
      "truncate",
      "append",
      "exclusive",
    ]);
    assert.deepEqual(operationFlags(0o1101), ["create", "truncate"]);
    assert.deepEqual(operationFlags(0o2001), ["append"]);
    assert.deepEqual(operationFlags(0o2000000), []);
  });

  test("exclusive is O_EXCL (0o200), not O_NOCTTY (0o400) as the earlier implementation tested (§14.3)", () => {
    assert.deepEqual(operationFlags(0o300), ["create", "exclusive"]);
    assert.deepEqual(operationFlags(0o400), []);
  });
});
