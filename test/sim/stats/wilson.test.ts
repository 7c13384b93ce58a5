import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { wilsonInterval } from "../../../src/sim/stats/wilson.js";

const close = (actual: number, expected: number, tol: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} vs ${expected}`);

describe("wilsonInterval", () => {
  // Newcombe (1998), "Two-sided confidence intervals for the single proportion", Table II,
  // method 3 (score interval without continuity correction), 95%: published to 4 decimals.
  const NEWCOMBE: [number, number, number, number][] = [
    [81, 263, 0.2553, 0.3662],
    [15, 148, 0.0624, 0.1605],
    [0, 20, 0, 0.1611],
    [1, 29, 0.0061, 0.1718],
  ];
  for (const [x, n, lo, hi] of NEWCOMBE) {
    test(`${x}/${n} matches Newcombe's table: (${lo}, ${hi})`, () => {
      const [l, u] = wilsonInterval(x, n);
      close(l, lo, 5e-5, "lower");
      close(u, hi, 5e-5, "upper");
    });
  }

  // The roots of (1 + z²/n)θ² − (2p̂ + z²/n)θ + p̂² = 0 with z = 1.96, computed independently with
  // 50-digit decimal arithmetic (Python `decimal`), each written as the nearest double.
  const PRECISE: [number, number, number, number][] = [
    [81, 263, 0.25528761306366965, 0.36621068405342155],
    [15, 148, 0.06238584514033463, 0.16048851867037336],
    [0, 20, 0, 0.16113012549493322],
    [1, 29, 0.006113056614032269, 0.17175891064700252],
    [0, 1, 0, 0.7934567085261071],
    [1, 1, 0.20654329147389291, 1],
    [5, 10, 0.23658959361548726, 0.7634104063845127],
    [7, 7, 0.6456611570247934, 1],
    [199, 200, 0.9722256001302285, 0.9991168540106338],
    [3, 1_000, 0.0010207654054443255, 0.008783171789427854],
    [1, 1_000_000_000, 1.7652001430606605e-10, 5.665079963252843e-9],
    [999_999_999, 1_000_000_000, 0.99999999433492, 0.99999999982348],
  ];
  for (const [x, n, lo, hi] of PRECISE) {
    test(`${x}/${n} to 12 significant digits`, () => {
      const [l, u] = wilsonInterval(x, n);
      close(l, lo, Math.max(1e-12 * lo, x === 0 ? 0 : 1e-18), "lower");
      close(u, hi, 1e-12 * hi, "upper");
    });
  }

  test("edges are exact: n = 0 is [0, 1], 0/n has lower 0, n/n has upper 1", () => {
    assert.deepEqual(wilsonInterval(0, 0), [0, 1]);
    for (const n of [1, 2, 3, 7, 10, 263, 10_000, 1e9, Number.MAX_SAFE_INTEGER]) {
      assert.equal(wilsonInterval(0, n)[0], 0);
      assert.equal(wilsonInterval(n, n)[1], 1);
    }
  });

  test("bad input is a RangeError", () => {
    for (const [x, n, z] of [
      [-1, 10, 1.96],
      [11, 10, 1.96],
      [1.5, 10, 1.96],
      [0, -1, 1.96],
      [0, Number.NaN, 1.96],
      [1, 10, 0],
      [1, 10, -1],
      [1, 10, Number.POSITIVE_INFINITY],
    ] as const) {
      assert.throws(() => wilsonInterval(x, n, z), RangeError, `${x}/${n} z=${z}`);
    }
  });

  const counts = fc
    .integer({ min: 1, max: 1_000_000 })
    .chain((n) => fc.tuple(fc.integer({ min: 0, max: n }), fc.constant(n)));

  test("property: each bound inside [0, 1] solves the score equation n(p̂ − θ)² = z²θ(1 − θ)", () => {
    fc.assert(
      fc.property(counts, fc.double({ min: 0.5, max: 4, noNaN: true }), ([x, n], z) => {
        const p = x / n;
        for (const theta of wilsonInterval(x, n, z)) {
          if ((theta === 0 && x === 0) || (theta === 1 && x === n)) continue;
          const lhs = n * (p - theta) ** 2;
          const rhs = z * z * theta * (1 - theta);
          // A double near θ is only good to ~θ·2^-52: allow that much movement of θ (the slope of
          // the residual times a few ulps) on top of a relative error in the residual itself.
          const slope = Math.abs(2 * n * (theta - p)) + z * z;
          const tol = 1e-12 * Math.max(lhs, rhs) + slope * theta * 1e-14;
          assert.ok(Math.abs(lhs - rhs) <= tol, `${x}/${n} θ=${theta}: ${lhs} vs ${rhs}`);
        }
      }),
      { numRuns: 2000 },
    );
  });

  test("property: 0 ≤ lower ≤ p̂ ≤ upper ≤ 1, symmetric under x → n − x, nested in z", () => {
    fc.assert(
      fc.property(counts, ([x, n]) => {
        const [l, u] = wilsonInterval(x, n);
        const p = x / n;
        assert.ok(0 <= l && l <= p && p <= u && u <= 1);
        const [ml, mu] = wilsonInterval(n - x, n);
        close(l, 1 - mu, 1e-12, "mirror lower");
        close(u, 1 - ml, 1e-12, "mirror upper");
        const [wl, wu] = wilsonInterval(x, n, 2.576);
        assert.ok(wl <= l && u <= wu, "a 99% interval contains the 95% one");
      }),
      { numRuns: 2000 },
    );
  });
});
