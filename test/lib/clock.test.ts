import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { isoTimestamp, systemClock } from "../../src/lib/clock.js";

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

describe("isoTimestamp", () => {
  test("is exactly Date#toISOString for any millisecond, in any order", () => {
    // Times in and around the range a clock gives, and the edges of the four-digit years.
    const ms = fc.oneof(
      fc.integer({ min: 0, max: 4_102_444_800_000 }),
      fc.integer({ min: -62_167_219_200_000, max: 253_402_300_799_999 }),
      fc.constantFrom(
        -62_167_219_200_001,
        253_402_300_800_000,
        8.64e15,
        -8.64e15,
        0,
        59_999,
        60_000,
        1.5,
        -0.5,
      ),
    );
    fc.assert(
      fc.property(fc.array(ms, { minLength: 1, maxLength: 20 }), (times) => {
        for (const t of times) assert.equal(isoTimestamp(t), new Date(t).toISOString(), String(t));
      }),
      { numRuns: 500 },
    );
  });

  test("follows the clock across seconds and minutes", () => {
    const start = Date.UTC(2026, 11, 31, 23, 58, 59, 990);
    for (let t = start; t < start + 125_000; t += 7) assert.equal(isoTimestamp(t), new Date(t).toISOString());
  });
});
