import { AssayError } from "../../lib/errors.js";

/** The largest u64: run and trial seeds are integers in 0..U64_MAX. */
export const U64_MAX = (1n << 64n) - 1n;

const GOLDEN_GAMMA = 0x9e3779b97f4a7c15n;

export function isU64(value: bigint): boolean {
  return value >= 0n && value <= U64_MAX;
}

/**
 * The `(index + 1)`-th output of Vigna's splitmix64 (prng.di.unimi.it/splitmix64.c) seeded with
 * `seed`, computed directly: state = seed + (index + 1)·0x9E3779B97F4A7C15 mod 2^64, then the
 * finalizer z ^= z >> 30; z *= 0xBF58476D1CE4E5B9; z ^= z >> 27; z *= 0x94D049BB133111EB;
 * z ^= z >> 31 (all mod 2^64). For a fixed seed it is a bijection of index (mod 2^64).
 */
export function splitmix64(seed: bigint, index: number): bigint {
  let z = BigInt.asUintN(64, seed + BigInt(index + 1) * GOLDEN_GAMMA);
  z = BigInt.asUintN(64, (z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n);
  z = BigInt.asUintN(64, (z ^ (z >> 27n)) * 0x94d049bb133111ebn);
  return z ^ (z >> 31n);
}

/**
 * The seed of trial `index` (0-based) of a run: `splitmix64(runSeed, index)`, i.e. trial i gets the
 * (i + 1)-th output of splitmix64 seeded with the run seed — the 1-based trial index of the report
 * is the position in that stream. Any trial can be re-run alone from (run seed, index).
 */
export function trialSeed(runSeed: bigint, index: number): bigint {
  if (!isU64(runSeed)) throw new RangeError(`run seed must be a u64, got \`${runSeed}\``);
  if (!Number.isSafeInteger(index) || index < 0) {
    throw new RangeError(`trial index must be a non-negative integer, got \`${index}\``);
  }
  return splitmix64(runSeed, index);
}

const MAX_SHOWN = 40;

/** A run seed from the command line: a decimal integer in 0..2^64−1, nothing else (no sign, hex, spaces). */
export function parseSeed(text: string): bigint {
  if (/^[0-9]+$/.test(text)) {
    const value = BigInt(text);
    if (value <= U64_MAX) return value;
  }
  const shown = text.length > MAX_SHOWN ? `${text.slice(0, MAX_SHOWN)}…` : text;
  throw new AssayError("usage", `seed \`${shown}\` is not a decimal integer in 0..${U64_MAX}`);
}
