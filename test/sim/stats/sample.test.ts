import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { sampleIndices, sampleKey, sampleRate, TrialSample } from "../../../src/sim/stats/sample.js";
import { U64_MAX } from "../../../src/sim/stats/seeds.js";

/** The rule, written the slow way: sort every index by its key, keep the first `limit`. */
function bruteForce(total: number, limit: number, seed: bigint): number[] {
  return Array.from({ length: total }, (_, i) => i)
    .sort((a, b) => {
      const ka = sampleKey(seed, a);
      const kb = sampleKey(seed, b);
      return ka < kb ? -1 : ka > kb ? 1 : 0;
    })
    .slice(0, limit)
    .sort((a, b) => a - b);
}

const u64 = fc.bigInt({ min: 0n, max: U64_MAX });

describe("sampleIndices / TrialSample", () => {
  test("at or under the limit every trial is kept", () => {
    assert.deepEqual(sampleIndices(5, 10, 1n), [0, 1, 2, 3, 4]);
    assert.deepEqual(sampleIndices(10, 10, 1n), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    assert.deepEqual(sampleIndices(0, 10, 1n), []);
    assert.deepEqual(sampleIndices(10, 0, 1n), []);
  });

  test("property: the `limit` smallest keys, ascending, the same every time", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 60 }),
        u64,
        (total, limit, seed) => {
          const got = sampleIndices(total, limit, seed);
          assert.deepEqual(got, bruteForce(total, limit, seed));
          assert.equal(got.length, Math.min(total, limit));
          assert.deepEqual(sampleIndices(total, limit, seed), got);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("property: offer order and sharding do not matter (merge gives the one-run sample)", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 0, max: 50 }),
        fc.integer({ min: 1, max: 5 }),
        u64,
        fc.integer(),
        (total, limit, shards, seed, shuffleSeed) => {
          const order = Array.from({ length: total }, (_, i) => i);
          let r = shuffleSeed >>> 0;
          for (let i = order.length - 1; i > 0; i--) {
            r = (Math.imul(r, 1664525) + 1013904223) >>> 0;
            const j = r % (i + 1);
            [order[i], order[j]] = [order[j] as number, order[i] as number];
          }
          const parts = Array.from({ length: shards }, () => new TrialSample<string>(seed, limit));
          for (const i of order) parts[i % shards]?.offer(i, `t${i}`);
          const merged = parts[0] as TrialSample<string>;
          for (const p of parts.slice(1)) merged.merge(p);
          const want = sampleIndices(total, limit, seed);
          assert.deepEqual(
            merged.entries(),
            want.map((index) => ({ index, item: `t${index}` })),
          );
          assert.equal(merged.seen, total);
          assert.equal(merged.kept, want.length);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("no aliasing with scenario i mod S: 2 scenarios, 20,000 trials, limit 10,000", () => {
    const kept = sampleIndices(20_000, 10_000, 42n);
    const even = kept.filter((i) => i % 2 === 0).length;
    // Binomial-like around 5,000 (hypergeometric sd ≈ 35): a stride of 2 would give 10,000 or 0.
    assert.ok(Math.abs(even - 5_000) < 250, `even-indexed kept: ${even}`);
  });

  test("each trial is kept with probability limit/total (200 seeds, 10 blocks)", () => {
    const blocks = new Array<number>(10).fill(0);
    for (let s = 0n; s < 200n; s++) {
      for (const i of sampleIndices(1_000, 100, s)) {
        const b = Math.floor(i / 100);
        blocks[b] = (blocks[b] ?? 0) + 1;
      }
    }
    // 20,000 picks, 2,000 expected per block; 9 degrees of freedom: P(χ² > 27.88) = 0.001
    const chi2 = blocks.reduce((sum, o) => sum + (o - 2_000) ** 2 / 2_000, 0);
    assert.ok(chi2 < 27.88, `χ² = ${chi2} over ${blocks.join(", ")}`);
  });

  test("the seed changes the sample", () => {
    assert.notDeepEqual(sampleIndices(1_000, 10, 1n), sampleIndices(1_000, 10, 2n));
  });

  test("sample_rate = kept / total", () => {
    const s = new TrialSample<null>(9n, 3);
    for (let i = 0; i < 12; i++) s.offer(i, null);
    assert.equal(sampleRate(s.kept, s.seen), 0.25);
    assert.equal(sampleRate(0, 0), 1);
  });

  test("bad input is a RangeError", () => {
    assert.throws(() => new TrialSample(-1n, 1), RangeError);
    assert.throws(() => new TrialSample(1n, -1), RangeError);
    assert.throws(() => new TrialSample(1n, 1.5), RangeError);
    assert.throws(() => new TrialSample(1n, 1).offer(-1, null), RangeError);
    assert.throws(() => sampleIndices(-1, 1, 1n), RangeError);
    assert.throws(() => new TrialSample(1n, 2).merge(new TrialSample(2n, 2)), RangeError);
    assert.throws(() => new TrialSample(1n, 2).merge(new TrialSample(1n, 3)), RangeError);
  });
});
