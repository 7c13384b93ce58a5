import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { rngFor } from "../../../src/sim/stats/rng.js";
import { splitmix64, U64_MAX } from "../../../src/sim/stats/seeds.js";

const MASK64 = (1n << 64n) - 1n;
const rotl = (v: bigint, k: bigint) => ((v << k) | (v >> (64n - k))) & MASK64;

/** Vigna's xoroshiro128plus.c (a = 24, b = 16, c = 37) seeded from splitmix64, 64-bit outputs. */
function referenceOutputs(seed: bigint, count: number): bigint[] {
  let s0 = splitmix64(seed, 0);
  let s1 = splitmix64(seed, 1);
  const out: bigint[] = [];
  for (let i = 0; i < count; i++) {
    out.push((s0 + s1) & MASK64);
    s1 ^= s0;
    s0 = rotl(s0, 24n) ^ s1 ^ ((s1 << 16n) & MASK64);
    s1 = rotl(s1, 37n);
  }
  return out;
}

// The same, from the C reference compiled with gcc: the BigInt model above is checked against it.
const C_OUTPUTS: [bigint, bigint[]][] = [
  [
    0n,
    [0x509946a41cd733a3n, 0xd805fcac6824536en, 0xdadc02f3e3cf7be3n, 0x622e4dd99d2720e5n, 0xaacfd52d630b52bdn],
  ],
  [
    42n,
    [0xe6c71559e2525f98n, 0x13b69ac93ec06b57n, 0x879006cb74f40d36n, 0x52d5476ee695f446n, 0x78795b7b60107e04n],
  ],
];

/** pure-rand's uniformFloat64: 26 low bits of one 32-bit output, then 27 of the next, over 2^53. */
function referenceFloats(seed: bigint, count: number): number[] {
  const o = referenceOutputs(seed, 2 * count);
  return Array.from(
    { length: count },
    (_, i) =>
      Number((o[2 * i] as bigint) & 0x3ffffffn) * 2 ** -26 +
      Number((o[2 * i + 1] as bigint) & 0x7ffffffn) * 2 ** -53,
  );
}

describe("rngFor", () => {
  test("the BigInt model of xoroshiro128+ matches the C reference", () => {
    for (const [seed, outputs] of C_OUTPUTS)
      assert.deepEqual(referenceOutputs(seed, outputs.length), outputs);
  });

  test("nextFloat is the reference xoroshiro128+ stream through uniformFloat64", () => {
    for (const seed of [0n, 1n, 42n, 0xdeadbeefn, U64_MAX]) {
      const rng = rngFor(seed);
      const got = Array.from({ length: 500 }, () => rng.nextFloat());
      assert.deepEqual(got, referenceFloats(seed, 500), `seed ${seed}`);
    }
  });

  test("nextInt is rejection sampling on the reference stream", () => {
    // pure-rand's uniformInt for a range ≤ 2^32: v = low 32 bits XOR 2^31, reject v ≥ ⌊2^32/n⌋·n, v mod n.
    for (const n of [1, 2, 6, 1000, 2 ** 31 + 1]) {
      const rng = rngFor(7n);
      const stream = referenceOutputs(7n, 4000);
      let at = 0;
      const limit = n > 2 ? Math.floor(2 ** 32 / n) * n : 2 ** 32;
      for (let i = 0; i < 1000; i++) {
        let v: number;
        do v = Number(((stream[at++] as bigint) & 0xffffffffn) ^ 0x80000000n);
        while (v >= limit);
        assert.equal(rng.nextInt(n), v % n, `n=${n} draw ${i}`);
      }
    }
  });

  test("same seed, same stream; another seed, another stream", () => {
    const a = rngFor(123n);
    const b = rngFor(123n);
    const c = rngFor(124n);
    const draw = (r: ReturnType<typeof rngFor>) => [
      r.nextFloat(),
      r.nextInt(10),
      r.nextFloat(),
      r.nextInt(1e9),
    ];
    const [x, y, z] = [draw(a), draw(b), draw(c)];
    assert.deepEqual(x, y);
    assert.notDeepEqual(x, z);
  });

  test("pinned: the first draws of seed 42 (a change is a change of every seeded report)", () => {
    const rng = rngFor(42n);
    const floats = [rng.nextFloat(), rng.nextFloat(), rng.nextFloat()];
    const ints = [rng.nextInt(6), rng.nextInt(6), rng.nextInt(6), rng.nextInt(100)];
    assert.deepEqual(floats, referenceFloats(42n, 3));
    assert.deepEqual(ints, PINNED_INTS_42);
  });

  test("ranges and uniformity (chi-square, 10 bins, 100,000 draws)", () => {
    const rng = rngFor(2024n);
    const bins = new Array<number>(10).fill(0);
    const ints = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) {
      const f = rng.nextFloat();
      assert.ok(f >= 0 && f < 1);
      bump(bins, Math.floor(f * 10));
      const k = rng.nextInt(10);
      assert.ok(Number.isInteger(k) && k >= 0 && k < 10);
      bump(ints, k);
    }
    const chi2 = (b: number[]) => b.reduce((s, o) => s + (o - 10_000) ** 2 / 10_000, 0);
    // 9 degrees of freedom: P(χ² > 27.88) = 0.001
    assert.ok(chi2(bins) < 27.88, `floats χ² = ${chi2(bins)}`);
    assert.ok(chi2(ints) < 27.88, `ints χ² = ${chi2(ints)}`);
  });

  test("bad input is a RangeError", () => {
    assert.throws(() => rngFor(-1n), RangeError);
    assert.throws(() => rngFor(U64_MAX + 1n), RangeError);
    const rng = rngFor(1n);
    for (const n of [0, -1, 1.5, Number.NaN, 2 ** 53 + 2])
      assert.throws(() => rng.nextInt(n), RangeError, `${n}`);
    assert.equal(rng.nextInt(1), 0);
  });
});

const PINNED_INTS_42 = [1, 2, 1, 9];

function bump(counts: number[], at: number): void {
  counts[at] = (counts[at] ?? 0) + 1;
}
