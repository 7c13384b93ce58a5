import { randomBytes, randomUUID } from "node:crypto";
import { sha256Digest } from "../lib/canonical-json.js";
import { type Clock, systemClock } from "../lib/clock.js";
import { checkTrace } from "../policy/check-trace.js";
import type { TraceViolation } from "../policy/decision.js";
import type { Bundle } from "./bundle.js";
import type { TrialTrace } from "./driver.js";
import { createDriver, type DriverOptions } from "./drivers.js";
import { dimensionOf, failsTrial, isCritical } from "./judge-trial.js";
import type { ProgressCounts } from "./progress.js";
import { runCanaries } from "./run-canaries.js";
import { trialSeed } from "./seeds.js";
import { type Shard, WHOLE_RUN } from "./shard.js";
import { shardInfo } from "./shard-info.js";
import { SoakAggregate, type TrialRecord } from "./soak-aggregate.js";
import { assembleSoakReport, type SoakTotals } from "./soak-assemble.js";
import { DEFAULT_TIME_BUDGET_SECONDS, DEFAULT_TRIAL_LIMIT, MAX_CONCURRENCY } from "./soak-defaults.js";
import type { SoakReport } from "./soak-report.js";
import { type SoakVerdict, soakVerdict } from "./soak-verdict.js";
import type { Call, Scenario } from "./target-types.js";

export { DEFAULT_TIME_BUDGET_SECONDS, DEFAULT_TRIAL_LIMIT, MAX_CONCURRENCY };

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

/** Judge one trial's trace: violations at or above the severity floor, then the expectations. */
function judgeTrial(
  bundle: Bundle,
  scenario: Scenario,
  i: number,
  seed: bigint,
  trace: TrialTrace,
  duration: number,
): TrialRecord {
  const trialId = `${scenario.id}#${i + 1}`;
  // Records are written out field by field: `{...base, more}` made V8 promote every record to
  // old space on Node 20 (bench:soak: peak RSS 136 → 197 MB from 20k to 200k trials).
  if (!trace.ok) {
    return {
      index: i + 1,
      seed,
      scenario: scenario.id,
      dimension: scenario.dimension,
      trial_id: trialId,
      outcome: "infra_error",
      duration_seconds: duration,
      error_kind: trace.error_kind,
      error_message: trace.error_message,
      violations: [],
    };
  }
  try {
    const calls = trace.calls;
    const floor = bundle.target.decision_policy.severity_floor;
    const judged = (c: readonly Call[]) =>
      checkTrace(bundle.policy, { calls: c, context: scenario.context }).filter((v) => failsTrial(v, floor));
    const note = trace.note === undefined ? "" : ` [${trace.note}]`;
    const failing = judged(calls);
    let counted = failing;
    let missed = false;
    if (trace.attack !== undefined) {
      // Replay `must_flag`: the mutation is an attack. It is caught when the mutated trace has a
      // violation the recorded one does not; the trial keeps the recorded trace's own violations,
      // and the scenario's task expectations do not apply to an attack.
      counted = judged(trace.attack.recorded);
      const known = new Set(counted.map(violationKey));
      missed = !failing.some((v) => !known.has(violationKey(v)));
    }
    const expectations = trace.attack === undefined ? (bundle.expectations.get(scenario.id) ?? []) : [];
    const unmet = expectations.filter((e) => !e.evaluate({ calls }).pass);
    const violations = counted.map((v) => ({
      rule_id: v.rule_id ?? v.reason_code,
      dimension: dimensionOf(bundle.policy, v),
      critical: isCritical(v),
      example: `trial ${i + 1} (${scenario.id})${note} call ${v.call_index ?? "-"} ${v.path}: ${v.message}`,
    }));
    if (missed) {
      violations.push({
        rule_id: "mutation_not_caught",
        dimension: "security",
        critical: false,
        example: `trial ${i + 1} (${scenario.id})${note}: no rule at or above the severity floor flagged the mutation`,
      });
    }
    for (const r of trace.refusals ?? []) {
      violations.push({
        rule_id: r.rule_id,
        dimension: r.dimension,
        critical: false,
        example: `trial ${i + 1} (${scenario.id}) refused by the gate: ${r.message}`,
      });
    }
    const record: TrialRecord = {
      index: i + 1,
      seed,
      scenario: scenario.id,
      dimension: scenario.dimension,
      trial_id: trialId,
      outcome: violations.length === 0 && unmet.length === 0 ? "pass" : "fail",
      duration_seconds: duration,
      violations,
    };
    if (unmet.length > 0 && violations.length === 0) {
      record.error_kind = "expectation_failed";
      record.error_message = unmet.map((e) => e.source).join("; ");
    }
    return record;
  } catch (err) {
    const failed: TrialTrace = { ok: false, error_kind: "driver_error", error_message: errorText(err) };
    return judgeTrial(bundle, scenario, i, seed, failed, duration);
  }
}

/** What makes two violations the same finding (the mutated trace's against the recorded one's). */
function violationKey(v: TraceViolation): string {
  return `${v.call_index}\u0000${v.rule_id}\u0000${v.reason_code}\u0000${v.path}`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
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
