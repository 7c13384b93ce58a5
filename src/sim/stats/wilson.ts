/**
 * The Wilson score interval for a binomial proportion (Wilson 1927; Newcombe 1998, method 3): the
 * values θ with |p̂ − θ| ≤ z·√(θ(1 − θ)/n), i.e. the roots of
 * (1 + z²/n)·θ² − (2p̂ + z²/n)·θ + p̂² = 0.
 *
 * `n = 0` gives `[0, 1]` (nothing is known). `0/n` gives a lower bound of exactly 0 and `n/n` an
 * upper bound of exactly 1; both bounds are clamped to [0, 1]. Throws `RangeError` unless
 * `0 ≤ passes ≤ n` are integers and `z` is finite and positive.
 */
export function wilsonInterval(passes: number, n: number, z = 1.96): [number, number] {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new RangeError(`n must be a non-negative integer, got \`${n}\``);
  if (!Number.isSafeInteger(passes) || passes < 0 || passes > n) {
    throw new RangeError(`passes must be an integer in 0..${n}, got \`${passes}\``);
  }
  if (!Number.isFinite(z) || z <= 0) throw new RangeError(`z must be a positive number, got \`${z}\``);
  if (n === 0) return [0, 1];

  const p = passes / n;
  const z2n = (z * z) / n;
  const scale = 1 + z2n;
  const centre = (p + z2n / 2) / scale;
  const half = (z * Math.sqrt((p * (1 - p)) / n + z2n / (4 * n))) / scale;
  const larger = centre + half;
  // The smaller root from the product of the roots (p̂²/scale), not centre − half: subtracting two
  // close numbers would lose the digits of a small lower bound (few passes, large n).
  const smaller = (p * p) / (scale * larger);
  const lower = passes === 0 ? 0 : Math.max(0, Math.min(p, smaller));
  const upper = passes === n ? 1 : Math.min(1, Math.max(p, larger));
  return [lower, upper];
}
