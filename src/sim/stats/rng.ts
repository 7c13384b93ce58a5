import { uniformFloat64 } from "pure-rand/distribution/uniformFloat64";
import { uniformInt } from "pure-rand/distribution/uniformInt";
import { xoroshiro128plusFromState } from "pure-rand/generator/xoroshiro128plus";
import { isU64, splitmix64 } from "./seeds.js";

/** The randomness a driver sees: injected, seeded, never global. */
export interface Rng {
  /** A float in [0, 1): a multiple of 2^-53. */
  nextFloat(): number;
  /** An integer in [0, n), uniform (rejection sampling, no modulo bias); n in 1..2^53. */
  nextInt(n: number): number;
}

const U32 = 0xffffffffn;

/**
 * A generator for one seed: pure-rand's xoroshiro128+ (pinned version: its outputs are part of the
 * reproducibility contract) with state s0 = splitmix64(seed, 0), s1 = splitmix64(seed, 1), the
 * seeding Vigna recommends. Its 32-bit `next()` is the low half of the reference 64-bit output.
 */
export function rngFor(seed: bigint): Rng {
  if (!isU64(seed)) throw new RangeError(`seed must be a u64, got \`${seed}\``);
  const s0 = splitmix64(seed, 0);
  const s1 = splitmix64(seed, 1);
  // INVARIANT: s0, s1 are not both 0 (splitmix64 is a bijection of the index), so the state is valid.
  // pure-rand's state layout: [s0 high, s0 low, s1 high, s1 low] as int32.
  const gen = xoroshiro128plusFromState([
    Number(s0 >> 32n) | 0,
    Number(s0 & U32) | 0,
    Number(s1 >> 32n) | 0,
    Number(s1 & U32) | 0,
  ]);
  return {
    nextFloat: () => uniformFloat64(gen),
    nextInt: (n) => {
      if (!Number.isSafeInteger(n - 1) || n < 1)
        throw new RangeError(`n must be an integer ≥ 1, got \`${n}\``);
      return uniformInt(gen, 0, n - 1);
    },
  };
}
