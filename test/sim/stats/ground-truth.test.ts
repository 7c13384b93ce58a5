// Statistics against known ground truth: a scripted agent whose trials pass with a known
// probability, driven exactly as a soak drives one (trial i: seed trialSeed(run, i), scenario
// i mod S, randomness rngFor(seed)). Seeds are fixed, so these cannot flake; the bounds are wide
// enough (≥ 3 standard errors) that another fixed seed would pass as well.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { passHatK, passKByScenario, type ScenarioCounts } from "../../../src/sim/stats/pass-k.js";
import { rngFor } from "../../../src/sim/stats/rng.js";
import { splitmix64, trialSeed } from "../../../src/sim/stats/seeds.js";
import { wilsonInterval } from "../../../src/sim/stats/wilson.js";

/** One soak of `trials` trials over `pass.length` scenarios; trial i passes with probability pass[i mod S]. */
function scriptedSoak(runSeed: bigint, trials: number, pass: readonly number[]): ScenarioCounts[] {
  const counts = pass.map(() => ({ passes: 0, n: 0 }));
  for (let i = 0; i < trials; i++) {
    const s = i % pass.length;
    const c = counts[s] as ScenarioCounts;
    c.n++;
    if (rngFor(trialSeed(runSeed, i)).nextFloat() < (pass[s] as number)) c.passes++;
  }
  return counts;
}

/** P(p inside the Wilson interval of X), X ~ Binomial(n, p), summed over every x. */
function exactCoverage(n: number, p: number): number {
  let logChoose = 0;
  let coverage = 0;
  for (let x = 0; x <= n; x++) {
    if (x > 0) logChoose += Math.log(n - x + 1) - Math.log(x);
    const [lo, hi] = wilsonInterval(x, n);
    if (lo <= p && p <= hi) coverage += Math.exp(logChoose + x * Math.log(p) + (n - x) * Math.log1p(-p));
  }
  return coverage;
}

const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const sd = (xs: readonly number[]) => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1));
};

describe("ground truth: a scripted agent with a known pass probability", () => {
  const SOAKS = 400;
  const TRIALS = 200;

  for (const [p, base] of [
    [0.5, 1n],
    [0.8, 2n],
    [0.9, 3n],
    [0.95, 4n],
    [0.99, 5n],
  ] as const) {
    test(`p = ${p}: the Wilson 95% interval covers p in about 95% of ${SOAKS} soaks of ${TRIALS}`, (t) => {
      let covered = 0;
      let passes = 0;
      for (let j = 0; j < SOAKS; j++) {
        const [c] = scriptedSoak(splitmix64(base, j), TRIALS, [p]);
        const x = c?.passes ?? 0;
        passes += x;
        const [lo, hi] = wilsonInterval(x, TRIALS);
        if (lo <= p && p <= hi) covered++;
      }
      const rate = covered / SOAKS;
      const exact = exactCoverage(TRIALS, p);
      const se = Math.sqrt((exact * (1 - exact)) / SOAKS);
      t.diagnostic(
        `coverage ${rate.toFixed(4)} (exact ${exact.toFixed(4)}, se ${se.toFixed(4)}), pooled pass rate ${(passes / (SOAKS * TRIALS)).toFixed(4)}`,
      );
      assert.ok(rate >= 0.92 && rate <= 0.98, `coverage ${rate}`);
      assert.ok(Math.abs(rate - exact) <= 3.5 * se, `coverage ${rate} vs exact ${exact}`);
      // The source itself is Bernoulli(p): the pooled rate over 80,000 trials is within 4 se of p.
      assert.ok(Math.abs(passes / (SOAKS * TRIALS) - p) <= 4 * Math.sqrt((p * (1 - p)) / (SOAKS * TRIALS)));
    });
  }

  test("pass^k is unbiased for the mean over scenarios of p_s^k (400 soaks, 20 scenarios × 10 trials)", (t) => {
    const S = 20;
    const pass = Array.from({ length: S }, (_, s) => 0.55 + (0.45 * s) / (S - 1));
    const estimates: number[][] = Array.from({ length: 8 }, () => []);
    const plugIn: number[][] = Array.from({ length: 8 }, () => []);
    for (let j = 0; j < SOAKS; j++) {
      const counts = scriptedSoak(splitmix64(77n, j), S * 10, pass);
      const got = passKByScenario(counts);
      assert.equal(got.length, 8);
      for (const { k, value } of got) {
        estimates[k - 1]?.push(value);
        plugIn[k - 1]?.push(mean(counts.map((c) => (c.passes / c.n) ** k)));
      }
    }
    const lines: string[] = [];
    for (let k = 1; k <= 8; k++) {
      const truth = mean(pass.map((p) => p ** k));
      const est = estimates[k - 1] as number[];
      const se = sd(est) / Math.sqrt(SOAKS);
      const m = mean(est);
      const naive = mean(plugIn[k - 1] as number[]);
      lines.push(
        `k=${k} truth ${truth.toFixed(4)} mean ${m.toFixed(4)} se ${se.toFixed(4)} plug-in ${naive.toFixed(4)}`,
      );
      assert.ok(Math.abs(m - truth) <= 4 * se, `k=${k}: mean ${m} vs ${truth} (se ${se})`);
      // The same test has the power to see a biased estimator: (c/n)^k overshoots for k ≥ 4.
      if (k >= 4) assert.ok(naive - truth > 4 * se, `k=${k}: plug-in ${naive} vs ${truth}`);
    }
    // Not (mean p)^k: the average of p_s^k is what τ-bench's pass^k measures.
    const meanP = mean(pass);
    assert.ok(mean(pass.map((p) => p ** 8)) - meanP ** 8 > 0.02);
    t.diagnostic(lines.join("; "));
  });

  test("one large soak: pass^k within 4 standard errors of p^k (p = 0.9, 10 scenarios × 1,000 trials)", (t) => {
    const p = 0.9;
    const S = 10;
    const n = 1000;
    const counts = scriptedSoak(0xc0ffeen, S * n, new Array<number>(S).fill(p));
    const lines: string[] = [];
    for (const { k, value } of passKByScenario(counts)) {
      // delta method: sd of C(c,k)/C(n,k) ≈ k·p^(k−1)·√(p(1−p)/n), averaged over S scenarios
      const se = (k * p ** (k - 1) * Math.sqrt((p * (1 - p)) / n)) / Math.sqrt(S);
      lines.push(`k=${k} ${value.toFixed(4)} vs ${(p ** k).toFixed(4)} (se ${se.toFixed(4)})`);
      assert.ok(Math.abs(value - p ** k) <= 4 * se, `k=${k}: ${value} vs ${p ** k}`);
      assert.equal(value, mean(counts.map((c) => passHatK(c.passes, c.n, k))));
    }
    t.diagnostic(lines.join("; "));
  });
});
