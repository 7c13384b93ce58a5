import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { systemClock } from "../../src/lib/clock.js";

describe("systemClock", () => {
  test("nowIso is the current millisecond as RFC 3339 UTC, and moves with it", () => {
    const before = Date.now();
    const first = systemClock.nowIso();
    assert.match(first, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const t = Date.parse(first);
    assert.ok(t >= before && t <= Date.now(), `${first} is now`);
    // Wait (bounded) for the next millisecond: the string must follow.
    for (let i = 0; i < 1e7 && Date.now() <= t; i++);
    const second = systemClock.nowIso();
    assert.ok(Date.parse(second) > t, `${second} after ${first}`);
  });
});
