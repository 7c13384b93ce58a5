import { randomBytes, randomUUID } from "node:crypto";
import { sha256Digest } from "../lib/canonical-json.js";
import { type Clock, systemClock } from "../lib/clock.js";
import { AssayError } from "../lib/errors.js";
import { checkTrace } from "../policy/check-trace.js";
import type { Bundle } from "./bundle.js";
import { dimensionOf, failsTrial, isCritical } from "./judge-trial.js";
import type { ProgressCounts } from "./progress.js";
import { rngFor } from "./rng.js";
import { runCanaries } from "./run-canaries.js";
import { scriptedCalls } from "./scripted-driver.js";
import { trialSeed } from "./seeds.js";
import { type Shard, WHOLE_RUN } from "./shard.js";
import { shardInfo } from "./shard-info.js";
import { SoakAggregate, type TrialRecord } from "./soak-aggregate.js";
import { assembleSoakReport, type SoakTotals } from "./soak-assemble.js";
import type { SoakReport } from "./soak-report.js";
import { type SoakVerdict, soakVerdict } from "./soak-verdict.js";
import type { Scenario } from "./target-types.js";

export const DEFAULT_TRIAL_LIMIT = 10_000;
export const DEFAULT_TIME_BUDGET_SECONDS = 3600;

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
  /** Run only this slice of the trials; the report then carries what `sim merge` needs. */
  shard?: Shard;
  /** Every trial as it finishes (for `--trials`). */
  onTrial?: (t: TrialRecord) => void;
  /** Counts so far, every few trials and once at the end (for progress output). */
  onProgress?: (c: ProgressCounts, final: boolean) => void;
  clock?: Clock;
}

export type { SoakVerdict };

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
 * trialSeed(seed, i); canaries first. Aggregates stream: memory grows with the kept sample only.
 */
export function runSoak(opts: SoakOptions): SoakResult {
  const { bundle } = opts;
  const clock = opts.clock ?? systemClock;
  const policy = bundle.policy;
  const dp = bundle.target.decision_policy;
  const budget = opts.timeBudgetSeconds ?? DEFAULT_TIME_BUDGET_SECONDS;
  const startedAt = clock.nowIso();
  const t0 = clock.monotonicNs();
  const budgetNs = BigInt(Math.round(budget * 1e9));

  if (bundle.target.driver.kind !== "scripted") {
    throw new AssayError(
      "driver_unavailable",
      `driver \`${bundle.target.driver.kind}\` is not available yet: only \`scripted\` runs in this version`,
      { where: bundle.where("assay-target.yaml") },
    );
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
  // Shard i/n runs trials t ≡ i − 1 (mod n), each with the seed it has in the whole run.
  for (let i = shard.index - 1; i < opts.iterations; i += shard.count) {
    if ((ran & 63) === 0 && clock.monotonicNs() - t0 > budgetNs) {
      overBudget = true;
      break;
    }
    const scenario = scenarios[i % scenarios.length] as Scenario;
    const record = runTrial(bundle, scenario, i, trialSeed(opts.seed, i), clock, opts.deterministic === true);
    agg.add(record);
    opts.onTrial?.(record);
    ran++;
    if (opts.onProgress && (ran & 127) === 0) opts.onProgress(progress(), false);
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

  const det = opts.deterministic === true;
  const identity = soakIdentity(bundle.digest, opts.seed, opts.iterations);
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
      traceparent: traceparent(det ? identity : undefined),
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

function runTrial(
  bundle: Bundle,
  scenario: Scenario,
  i: number,
  seed: bigint,
  clock: Clock,
  det: boolean,
): TrialRecord {
  const start = clock.monotonicNs();
  const trialId = `${scenario.id}#${i + 1}`;
  const duration = () => (det ? 0 : Number(clock.monotonicNs() - start) / 1e9);
  // Records are written out field by field: `{...base, more}` made V8 promote every record to
  // old space on Node 20 (bench:soak: peak RSS 136 → 197 MB from 20k to 200k trials).
  try {
    const calls = scriptedCalls(scenario, rngFor(seed));
    const floor = bundle.target.decision_policy.severity_floor;
    const failing = checkTrace(bundle.policy, { calls, context: scenario.context }).filter((v) =>
      failsTrial(v, floor),
    );
    const expectations = bundle.expectations.get(scenario.id) ?? [];
    const unmet = expectations.filter((e) => !e.evaluate({ calls }).pass);
    const violations = failing.map((v) => ({
      rule_id: v.rule_id ?? v.reason_code,
      dimension: dimensionOf(bundle.policy, v),
      critical: isCritical(v),
      example: `trial ${i + 1} (${scenario.id}) call ${v.call_index ?? "-"} ${v.path}: ${v.message}`,
    }));
    const record: TrialRecord = {
      index: i + 1,
      seed,
      scenario: scenario.id,
      dimension: scenario.dimension,
      trial_id: trialId,
      outcome: failing.length === 0 && unmet.length === 0 ? "pass" : "fail",
      duration_seconds: duration(),
      violations,
    };
    if (unmet.length > 0 && failing.length === 0) {
      record.error_kind = "expectation_failed";
      record.error_message = unmet.map((e) => e.source).join("; ");
    }
    return record;
  } catch (err) {
    return {
      index: i + 1,
      seed,
      scenario: scenario.id,
      dimension: scenario.dimension,
      trial_id: trialId,
      outcome: "infra_error",
      duration_seconds: duration(),
      error_kind: "driver_error",
      error_message: err instanceof Error ? err.message : String(err),
      violations: [],
    };
  }
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
