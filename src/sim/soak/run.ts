import { randomBytes, randomUUID } from "node:crypto";
import { sha256Digest } from "../../lib/canonical-json.js";
import { type Clock, systemClock } from "../../lib/clock.js";
import { createDriver, type DriverOptions } from "../drivers/create-driver.js";
import type { TrialTrace } from "../drivers/driver.js";
import { trialSeed } from "../stats/seeds.js";
import type { Bundle } from "../target/load.js";
import type { Scenario } from "../target/types.js";
import { SoakAggregate, type TrialRecord } from "./aggregate.js";
import { assembleSoakReport } from "./assemble.js";
import { runCanaries } from "./canaries.js";
import { DEFAULT_TIME_BUDGET_SECONDS, DEFAULT_TRIAL_LIMIT, MAX_CONCURRENCY } from "./defaults.js";
import { errorText, judgeTrial } from "./judge-trial.js";
import type { ProgressCounts } from "./progress.js";
import type { SoakReport } from "./report.js";
import { type Shard, WHOLE_RUN } from "./shard.js";
import { shardInfo } from "./shard-info.js";
import type { SoakTotals } from "./totals.js";
import { type SoakVerdict, soakVerdict } from "./verdict.js";

export interface SoakOptions {
  bundle: Bundle;
  iterations: number;
  seed: bigint;
  assayVersion: string;
  timeBudgetSeconds?: number;
  /** Fix run_id, timestamps and durations, so the same inputs give a byte-identical report. */
  deterministic?: boolean;
  /** How many trials the report keeps (a deterministic sample past it). */
  trialLimit?: number;
  /**
   * `thresholds` (a soak): the decision policy's rates decide. `every_trial` (`sim run`, one trial
   * per scenario, too few for an interval): any failed trial is a finding.
   */
  judge?: "thresholds" | "every_trial";
  /** Trials run at once (default 1); the report is the same whatever it is. */
  concurrency?: number;
  /** Options of the command driver (ignored by the others). */
  driverOptions?: Omit<DriverOptions, "traceparent">;
  /** Run only this slice of the trials; the report then carries what `sim merge` needs. */
  shard?: Shard;
  /** Every trial as it finishes (for `--trials`). */
  onTrial?: (t: TrialRecord) => void;
  /** Counts so far, every few trials and once at the end (for progress output). */
  onProgress?: (c: ProgressCounts, final: boolean) => void;
  clock?: Clock;
}

export interface SoakResult {
  report: SoakReport;
  verdict: SoakVerdict;
}

/** The hex identity of a run (bundle, seed, iterations): deterministic run_id and traceparent. */
export function soakIdentity(bundleDigest: string, seed: bigint, iterations: number): string {
  return sha256Digest(`${bundleDigest}\n${seed}\n${iterations}`).slice("sha256:".length);
}

/**
 * A soak: `iterations` trials, trial i (0-based) running scenario i mod S with seed
 * trialSeed(seed, i); canaries first. Up to `concurrency` trials run at once, but their results
 * are counted in trial order, so the report does not depend on it. Aggregates stream: memory
 * grows with the kept sample only.
 */
export async function runSoak(opts: SoakOptions): Promise<SoakResult> {
  const { bundle } = opts;
  const clock = opts.clock ?? systemClock;
  const policy = bundle.policy;
  const dp = bundle.target.decision_policy;
  const budget = opts.timeBudgetSeconds ?? DEFAULT_TIME_BUDGET_SECONDS;
  const startedAt = clock.nowIso();
  const t0 = clock.monotonicNs();
  const budgetNs = BigInt(Math.round(budget * 1e9));
  const det = opts.deterministic === true;
  const identity = soakIdentity(bundle.digest, opts.seed, opts.iterations);
  const runTraceparent = traceparent(det ? identity : undefined);
  const concurrency = opts.concurrency ?? 1;
  if (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
    throw new RangeError(`concurrency must be an integer in 1..${MAX_CONCURRENCY}, got ${concurrency}`);
  }

  const canaries = runCanaries(policy, bundle.target.canaries, dp.severity_floor);
  const shard = opts.shard ?? WHOLE_RUN;
  const trialLimit = opts.trialLimit ?? DEFAULT_TRIAL_LIMIT;
  const agg = new SoakAggregate(opts.seed, trialLimit);
  const scenarios = bundle.target.scenarios;
  let ran = 0;
  let overBudget = false;
  const shardTotal = Math.max(0, Math.ceil((opts.iterations - (shard.index - 1)) / shard.count));
  const progress = (): ProgressCounts => ({
    done: ran,
    total: shardTotal,
    pass: agg.passes,
    fail: agg.fails,
    infra: agg.infra,
    elapsedSeconds: Number(clock.monotonicNs() - t0) / 1e9,
  });

  const driver = await createDriver(bundle, { traceparent: runTraceparent, ...opts.driverOptions });
  try {
    // Finished trials wait here until every earlier one has been counted.
    const finished = new Map<number, TrialRecord>();
    let nextToCount = shard.index - 1;
    const count = (i: number, record: TrialRecord) => {
      finished.set(i, record);
      for (let r = finished.get(nextToCount); r !== undefined; r = finished.get(nextToCount)) {
        finished.delete(nextToCount);
        agg.add(r);
        opts.onTrial?.(r);
        ran++;
        if (opts.onProgress && (driver.slow || (ran & 127) === 0)) opts.onProgress(progress(), false);
        nextToCount += shard.count;
      }
    };
    // Shard i/n runs trials t ≡ i − 1 (mod n), each with the seed it has in the whole run.
    let nextToStart = shard.index - 1;
    // A worker that throws (an onTrial callback that cannot write) stops the others taking trials.
    let failed = false;
    const take = (): number | undefined => {
      if (failed || nextToStart >= opts.iterations || overBudget) return undefined;
      if (clock.monotonicNs() - t0 > budgetNs) {
        overBudget = true;
        return undefined;
      }
      const i = nextToStart;
      nextToStart += shard.count;
      return i;
    };
    const worker = async () => {
      try {
        for (let i = take(); i !== undefined; i = take()) {
          const scenario = scenarios[i % scenarios.length] as Scenario;
          const seed = trialSeed(opts.seed, i);
          const start = clock.monotonicNs();
          let trace: TrialTrace;
          try {
            const pending = driver.trace({ scenario, index: i, seed });
            trace = pending instanceof Promise ? await pending : pending;
          } catch (err) {
            trace = { ok: false, error_kind: "driver_error", error_message: errorText(err) };
          }
          const duration = det ? 0 : Number(clock.monotonicNs() - start) / 1e9;
          count(i, judgeTrial(bundle, scenario, i, seed, trace, duration));
        }
      } catch (err) {
        // Set before any other worker runs again (a sync driver runs a whole loop in one go).
        failed = true;
        throw err;
      }
    };
    const settled = await Promise.allSettled(Array.from({ length: concurrency }, worker));
    const rejected = settled.find((s): s is PromiseRejectedResult => s.status === "rejected");
    if (rejected) throw rejected.reason;
  } finally {
    await driver.close();
  }
  const durationS = Number(clock.monotonicNs() - t0) / 1e9;
  opts.onProgress?.(progress(), true);

  const verdict = soakVerdict({
    dp,
    canaries,
    iterations: opts.iterations,
    ran,
    passes: agg.passes,
    fails: agg.fails,
    infra: agg.infra,
    critical: agg.critical,
    overBudget,
    budgetSeconds: budget,
    judge: opts.judge ?? "thresholds",
  });

  const totals: SoakTotals = {
    ran,
    passes: agg.passes,
    fails: agg.fails,
    infra: agg.infra,
    critical: agg.critical,
    dimensions: agg.dimensionCounts(),
    scenarios: agg.scenarioTallies(),
    rules: agg.ruleTallies(),
    kept: agg.sample.entries().map(({ item }) => ({ trial: item, dimension: item.dimension })),
  };
  const report = assembleSoakReport(
    {
      assayVersion: opts.assayVersion,
      run: {
        run_id: det ? `soak-${identity.slice(0, 32)}` : randomUUID(),
        started_at_utc: det ? "1970-01-01T00:00:00Z" : startedAt,
        duration_seconds: det ? 0 : Math.round(durationS),
        seed: opts.seed,
        iterations: opts.iterations,
        time_budget_seconds: Math.max(1, Math.ceil(budget)),
      },
      traceparent: runTraceparent,
      target: {
        bundle_id: `${bundle.target.id}@${bundle.target.version}`,
        bundle_digest: bundle.digest,
        pack_ids: bundle.packs.map((p) => p.doc.id),
        policy_digest: policy.digest,
      },
      decisionPolicy: {
        name: dp.name,
        thresholds: {
          min_pass_rate: dp.min_pass_rate,
          ci_lower_floor: dp.ci_lower_floor,
          max_infra_error_rate: dp.max_infra_error_rate,
          severity_floor: dp.severity_floor,
          fail_on_critical: dp.fail_on_critical,
        },
        fail_mode: dp.fail_mode,
      },
    },
    totals,
    canaries,
    verdict,
    opts.shard === undefined
      ? undefined
      : shardInfo(opts.shard, { trialLimit, budgetSeconds: budget, overBudget }, totals),
  );
  return { report, verdict };
}

/** A W3C traceparent: version 00, sampled. Derived from `seed` (hex) when given, else random. */
export function traceparent(seedHex?: string): string {
  const hex = seedHex ?? randomBytes(24).toString("hex");
  let traceId = hex.slice(0, 32);
  let spanId = hex.slice(32, 48);
  if (/^0+$/.test(traceId)) traceId = `${traceId.slice(0, 31)}1`;
  if (/^0+$/.test(spanId)) spanId = `${spanId.slice(0, 15)}1`;
  return `00-${traceId}-${spanId}-01`;
}
