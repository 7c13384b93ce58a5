import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { passHatK, passKByScenario } from "../../../src/sim/stats/pass-k.js";

function binomial(n: number, k: number): bigint {
  let r = 1n;
  for (let i = 0; i < k; i++) r = (r * BigInt(n - i)) / BigInt(i + 1);
  return r;
}

function bitLength(v: bigint): number {
  return v.toString(2).length;
}

/** C(c, k) / C(n, k) from exact integers, rounded to a double (within one ulp). */
function exactRatio(c: number, n: number, k: number): number {
  if (c < k) return 0;
  const num = binomial(c, k);
  const den = binomial(n, k);
  const shift = 64 + bitLength(den) - bitLength(num);
  return Number((num << BigInt(shift)) / den) * 2 ** -shift;
}

describe("passHatK", () => {
  test("closed form on hand-checked values", () => {
    assert.equal(passHatK(5, 10, 1), 0.5);
    assert.equal(passHatK(10, 10, 8), 1);
    assert.equal(passHatK(3, 10, 4), 0);
    assert.equal(passHatK(0, 10, 0), 1);
    assert.equal(passHatK(4, 4, 4), 1);
    // C(8,3)/C(10,3) = 56/120
    assert.ok(Math.abs(passHatK(8, 10, 3) - 56 / 120) < 1e-15);
  });

  test("property: equals the exact BigInt ratio C(c,k)/C(n,k) to 1e-13 relative", () => {
    const ck = fc
      .integer({ min: 0, max: 300 })
      .chain((n) => fc.tuple(fc.integer({ min: 0, max: n }), fc.constant(n), fc.integer({ min: 0, max: n })));
    fc.assert(
      fc.property(ck, ([c, n, k]) => {
        const want = exactRatio(c, n, k);
        const got = passHatK(c, n, k);
        assert.ok(Math.abs(got - want) <= 1e-13 * want, `(${c}, ${n}, ${k}): ${got} vs ${want}`);
      }),
      { numRuns: 3000 },
    );
  });

  test("no overflow for large n: finite, in [0, 1], matching (c/n)^k in the limit", () => {
    const v = passHatK(900_000, 1_000_000, 8);
    assert.ok(Number.isFinite(v) && v > 0 && v < 1);
    // ∏ (900000 − i)/(1000000 − i) is within 1e-5 of 0.9^8 for n this large.
    assert.ok(Math.abs(v - 0.9 ** 8) < 1e-5);
    assert.equal(passHatK(2 ** 40, 2 ** 50, 0), 1);
  });

  test("bad input is a RangeError", () => {
    for (const [c, n, k] of [
      [1, 10, 11],
      [11, 10, 1],
      [-1, 10, 1],
      [1, -1, 0],
      [1, 10, -1],
      [1.5, 10, 1],
      [1, 10, 0.5],
      [1, Number.NaN, 1],
    ] as const) {
      assert.throws(() => passHatK(c, n, k), RangeError, `(${c}, ${n}, ${k})`);
    }
  });
});

describe("passKByScenario", () => {
  test("averages per-scenario estimates, k up to min(kMax, min n)", () => {
    const got = passKByScenario([
      { passes: 4, n: 4 },
      { passes: 2, n: 4 },
    ]);
    assert.deepEqual(
      got.map((r) => r.k),
      [1, 2, 3, 4],
    );
    // scenario 2: 2/4, C(2,2)/C(4,2) = 1/6, then 0
    assert.deepEqual(
      got.map((r) => r.value),
      [(1 + 0.5) / 2, (1 + 1 / 6) / 2, 0.5, 0.5],
    );
  });

  test("different n: each scenario uses its own n; k stops at the smallest n", () => {
    const got = passKByScenario([
      { passes: 9, n: 10 },
      { passes: 2, n: 3 },
    ]);
    assert.deepEqual(
      got.map((r) => r.k),
      [1, 2, 3],
    );
    const v1 = got[0]?.value ?? Number.NaN;
    assert.ok(Math.abs(v1 - (0.9 + 2 / 3) / 2) < 1e-15);
    assert.ok(Math.abs((got[2]?.value ?? Number.NaN) - passHatK(9, 10, 3) / 2) < 1e-15);
  });

  test("kMax caps k; no scenarios or a scenario with n = 0 gives []", () => {
    assert.equal(passKByScenario([{ passes: 20, n: 20 }]).length, 8);
    assert.equal(passKByScenario([{ passes: 20, n: 20 }], 3).length, 3);
    assert.deepEqual(passKByScenario([]), []);
    assert.deepEqual(
      passKByScenario([
        { passes: 5, n: 5 },
        { passes: 0, n: 0 },
      ]),
      [],
    );
    assert.throws(() => passKByScenario([{ passes: 1, n: 1 }], -1), RangeError);
  });

  test("property: values in [0, 1], non-increasing in k", () => {
    const scenario = fc
      .integer({ min: 1, max: 40 })
      .chain((n) => fc.record({ passes: fc.integer({ min: 0, max: n }), n: fc.constant(n) }));
    fc.assert(
      fc.property(
        fc.array(scenario, { minLength: 1, maxLength: 20 }),
        fc.integer({ min: 0, max: 12 }),
        (s, kMax) => {
          const got = passKByScenario(s, kMax);
          assert.equal(got.length, Math.min(kMax, ...s.map((x) => x.n)));
          let prev = 1;
          for (const { value } of got) {
            assert.ok(value >= 0 && value <= prev + 1e-15);
            prev = value;
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
