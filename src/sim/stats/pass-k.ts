/**
 * The unbiased estimate of pass^k (the chance that k independent trials of one scenario all pass)
 * from `c` passes in `n` trials: C(c, k) / C(n, k), as τ-bench defines it (Yao et al. 2024).
 *
 * Computed as the product ∏_{i<k} (c − i)/(n − i): every factor is in [0, 1], so nothing overflows
 * however large n is. 0 when c < k; 1 when k = 0. Throws `RangeError` unless c, n, k are
 * non-negative integers with c ≤ n and k ≤ n.
 */
export function passHatK(c: number, n: number, k: number): number {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new RangeError(`n must be a non-negative integer, got \`${n}\``);
  if (!Number.isSafeInteger(c) || c < 0 || c > n) {
    throw new RangeError(`c must be an integer in 0..${n}, got \`${c}\``);
  }
  if (!Number.isSafeInteger(k) || k < 0 || k > n) {
    throw new RangeError(`k must be an integer in 0..${n}, got \`${k}\``);
  }
  if (c < k) return 0;
  let value = 1;
  for (let i = 0; i < k; i++) value *= (c - i) / (n - i);
  return value;
}

/** Judged trials of one scenario: `n` passes and fails (infra errors excluded), `passes` of them passed. */
export interface ScenarioCounts {
  passes: number;
  n: number;
}

export interface PassK {
  k: number;
  value: number;
}

/**
 * pass^k for k = 1..min(kMax, smallest n over the scenarios): for each k, the mean over scenarios
 * of `passHatK(passes, n, k)`, each scenario weighted equally (τ-bench's pass^k).
 *
 * Scenarios with different n: each uses its own n, so each term stays unbiased, and k stops at the
 * smallest n so that every value averages the same set of scenarios (the list is non-increasing in
 * k). One scenario with n = 0 (every trial an infra error), or no scenarios, gives `[]`. pass^1 is
 * the mean of the per-scenario pass rates, which differs from the pooled pass rate when n differs.
 * The sum runs in the order given: pass scenarios in a fixed order for byte-identical reports.
 */
export function passKByScenario(counts: readonly ScenarioCounts[], kMax = 8): PassK[] {
  if (!Number.isSafeInteger(kMax) || kMax < 0) {
    throw new RangeError(`kMax must be a non-negative integer, got \`${kMax}\``);
  }
  if (counts.length === 0) return [];
  let top = kMax;
  for (const s of counts) top = Math.min(top, s.n);
  const out: PassK[] = [];
  for (let k = 1; k <= top; k++) {
    let sum = 0;
    for (const s of counts) sum += passHatK(s.passes, s.n, k);
    out.push({ k, value: sum / counts.length });
  }
  return out;
}
