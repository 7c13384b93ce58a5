import { randomBytes, randomUUID } from "node:crypto";
import { sha256Digest } from "../lib/canonical-json.js";
import { type Clock, systemClock } from "../lib/clock.js";
import { AssayError } from "../lib/errors.js";
import { checkTrace } from "../policy/check-trace.js";
import type { Bundle } from "./bundle.js";
import { dimensionOf, failsTrial, isCritical } from "./judge-trial.js";
import { passKByScenario } from "./pass-k.js";
import { rngFor } from "./rng.js";
import { runCanaries } from "./run-canaries.js";
import { sampleRate } from "./sample.js";
import { scriptedCalls } from "./scripted-driver.js";
import { trialSeed } from "./seeds.js";
import { SoakAggregate, type TrialRecord } from "./soak-aggregate.js";
import type { SoakReport } from "./soak-report.js";
import type { Scenario } from "./target-types.js";
import { wilsonInterval } from "./wilson.js";

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
  /** Every trial as it finishes (for `--trials`). */
  onTrial?: (t: TrialRecord) => void;
  clock?: Clock;
}

/** What the run means for the exit code: 0 pass, 1 a threshold violated, 2 the measurement failed. */
export interface SoakVerdict {
  exit: 0 | 1 | 2;
  reasons: string[];
}

export interface SoakResult {
  report: SoakReport;
  verdict: SoakVerdict;
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
  const agg = new SoakAggregate(opts.seed, opts.trialLimit ?? DEFAULT_TRIAL_LIMIT);
  const scenarios = bundle.target.scenarios;
  let ran = 0;
  let overBudget = false;
  for (let i = 0; i < opts.iterations; i++) {
    if ((i & 63) === 0 && clock.monotonicNs() - t0 > budgetNs) {
      overBudget = true;
      break;
    }
    const scenario = scenarios[i % scenarios.length] as Scenario;
    const record = runTrial(bundle, scenario, i, trialSeed(opts.seed, i), clock, opts.deterministic === true);
    agg.add(record);
    opts.onTrial?.(record);
    ran++;
  }
  const durationS = Number(clock.monotonicNs() - t0) / 1e9;

  // Verdict.
  const judged = agg.judged;
  const passRate = judged === 0 ? 0 : agg.passes / judged;
  const ci = wilsonInterval(agg.passes, judged);
  const infraRate = ran === 0 ? 0 : agg.infra / ran;
  const measurement: string[] = [];
  const findings: string[] = [];
  for (const c of canaries)
    if (c.status === "fail") measurement.push(`canary \`${c.name}\` failed: ${c.notes ?? ""}`);
  if (infraRate > dp.max_infra_error_rate) {
    measurement.push(`infra-error rate ${fmt(infraRate)} is above its limit ${dp.max_infra_error_rate}`);
  }
  if (overBudget)
    measurement.push(`time budget of ${budget} s exceeded after ${ran} of ${opts.iterations} trials`);
  if (judged === 0) measurement.push("no trial could be judged");
  if (opts.judge === "every_trial") {
    if (agg.fails > 0) findings.push(`${agg.fails} of ${judged} trial(s) failed`);
  } else {
    if (passRate < dp.min_pass_rate) findings.push(`pass rate ${fmt(passRate)} is below ${dp.min_pass_rate}`);
    if (ci[0] < dp.ci_lower_floor)
      findings.push(`CI95 lower bound ${fmt(ci[0])} is below ${dp.ci_lower_floor}`);
  }
  if (dp.fail_on_critical && agg.critical > 0) findings.push(`${agg.critical} critical violation(s)`);
  const exit: 0 | 1 | 2 = measurement.length > 0 ? 2 : findings.length > 0 ? 1 : 0;

  const det = opts.deterministic === true;
  const identity = sha256Digest(`${bundle.digest}\n${opts.seed}\n${opts.iterations}`).slice("sha256:".length);
  const kept = agg.sample.entries();
  const sampled = agg.sample.seen > agg.sample.kept;
  const thresholds = {
    min_pass_rate: dp.min_pass_rate,
    ci_lower_floor: dp.ci_lower_floor,
    max_infra_error_rate: dp.max_infra_error_rate,
    severity_floor: dp.severity_floor,
    fail_on_critical: dp.fail_on_critical,
  };
  const report: SoakReport = {
    schema_version: "soak-report-v1",
    report_version: 1,
    assay_version: opts.assayVersion,
    run: {
      run_id: det ? `soak-${identity.slice(0, 32)}` : randomUUID(),
      started_at_utc: det ? "1970-01-01T00:00:00Z" : startedAt,
      duration_seconds: det ? 0 : Math.round(durationS),
      seed: opts.seed,
      iterations: opts.iterations,
      time_budget_seconds: Math.max(1, Math.ceil(budget)),
      evaluation_unit: "scenario",
    },
    trace: { traceparent: traceparent(det ? identity : undefined) },
    target: {
      bundle_id: `${bundle.target.id}@${bundle.target.version}`,
      bundle_digest: bundle.digest,
      pack_ids: bundle.packs.map((p) => p.doc.id),
      policy_digest: policy.digest,
    },
    decision_policy: { name: dp.name, thresholds, fail_mode: dp.fail_mode },
    summary: {
      pass_all: exit === 0,
      pass_rate: passRate,
      ci_95: ci,
      dimensions: agg.dimensions(),
      // The schema leaves this object open: the counts behind the rates and pass^k live here.
      thresholds_used: {
        ...thresholds,
        trials_run: ran,
        trials_judged: judged,
        pass_count: agg.passes,
        fail_count: agg.fails,
        infra_error_count: agg.infra,
        infra_error_rate: infraRate,
        critical_violations: agg.critical,
        pass_hat_k: passKByScenario(agg.scenarioCounts()),
        verdict_reasons: [...measurement, ...findings],
      },
    },
    trials: kept.map(({ item: t }) => ({
      trial_id: t.trial_id ?? `${t.scenario}#${t.index}`,
      index: t.index,
      seed: t.seed,
      outcome: t.outcome,
      duration_seconds: t.duration_seconds,
      ...(t.error_kind === undefined ? {} : { error_kind: t.error_kind }),
      ...(t.error_message === undefined ? {} : { error_message: t.error_message }),
    })),
    violations: agg.violations(),
    canaries,
    ...(sampled
      ? {
          iterations_sampled: kept.map(({ item: t }) => ({
            index: t.index,
            status: t.outcome,
            ...(t.outcome === "infra_error"
              ? {}
              : { dimension_outcomes: { [t.dimension]: t.outcome === "pass" ? "pass" : "fail" } }),
          })),
        }
      : {}),
    sample_rate: sampleRate(agg.sample.kept, agg.sample.seen),
  };
  return { report, verdict: { exit, reasons: [...measurement, ...findings] } };
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
  const base = {
    index: i + 1,
    seed,
    scenario: scenario.id,
    dimension: scenario.dimension,
    trial_id: `${scenario.id}#${i + 1}`,
  };
  const duration = () => (det ? 0 : Number(clock.monotonicNs() - start) / 1e9);
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
    const outcome = failing.length === 0 && unmet.length === 0 ? "pass" : "fail";
    return {
      ...base,
      outcome,
      duration_seconds: duration(),
      ...(unmet.length > 0 && failing.length === 0
        ? { error_kind: "expectation_failed", error_message: unmet.map((e) => e.source).join("; ") }
        : {}),
      violations,
    };
  } catch (err) {
    return {
      ...base,
      outcome: "infra_error",
      duration_seconds: duration(),
      error_kind: "driver_error",
      error_message: err instanceof Error ? err.message : String(err),
      violations: [],
    };
  }
}

/** A W3C traceparent: version 00, sampled. Derived from `seed` (hex) when given, else random. */
function traceparent(seedHex?: string): string {
  const hex = seedHex ?? randomBytes(24).toString("hex");
  let traceId = hex.slice(0, 32);
  let spanId = hex.slice(32, 48);
  if (/^0+$/.test(traceId)) traceId = `${traceId.slice(0, 31)}1`;
  if (/^0+$/.test(spanId)) spanId = `${spanId.slice(0, 15)}1`;
  return `00-${traceId}-${spanId}-01`;
}

function fmt(x: number): string {
  return x.toFixed(4);
}
