import { AssayError } from "../lib/errors.js";
import type { HistoryReport } from "./readiness-history.js";
import type { ReadinessPolicy, ReadinessThresholds } from "./readiness-policy.js";
import type { SoakReport } from "./soak-report.js";
import { wilsonInterval } from "./wilson.js";

export type ReadinessVerdict = "ready" | "not_ready" | "insufficient_data";

export type CriterionId =
  | "runs_observed"
  | "span_days"
  | "pass_rate"
  | "ci95_lower"
  | "flake_rate"
  | "infra_error_rate"
  | "median_duration_minutes"
  | "p95_duration_minutes"
  | "contract_fail_rate"
  | "unknown_rate";

/** One promotion criterion, judged and explained. */
export interface ReadinessCriterion {
  id: CriterionId;
  /** A `sufficiency` criterion not met means too little data (exit 2); a `threshold` one, not ready (exit 1). */
  kind: "sufficiency" | "threshold";
  comparison: ">=" | "<=";
  threshold: number;
  /** null when there is nothing to measure (no runs, no judged trials, no scenario seen). */
  observed: number | null;
  status: "met" | "not_met" | "no_data";
  explanation: string;
}

/** A run of the window, as the readiness file lists it. */
export interface ReadinessRun {
  file: string;
  run_id: string;
  started_at_utc: string;
  bundle_id: string;
  bundle_digest: string;
  pass_rate: number;
  trials_run: number;
  pass_count: number;
  fail_count: number;
  infra_error_count: number;
  duration_seconds: number;
  sample_rate: number;
}

export interface FlakyScenario {
  scenario: string;
  bundle_digest: string;
  passes: number;
  fails: number;
}

/** The readiness file (schemas/soak-readiness.schema.json). */
export interface ReadinessResult {
  schema_version: "soak-readiness-v1";
  assay_version: string;
  verdict: ReadinessVerdict;
  exit_code: 0 | 1 | 2;
  reasons: string[];
  policy: ReadinessPolicy;
  history: { directory: string; reports_read: number; runs_considered: number };
  runs: ReadinessRun[];
  flakes: { scenarios_observed: number; flaky: FlakyScenario[]; from_sample: boolean };
  criteria: ReadinessCriterion[];
}

interface Run extends ReadinessRun {
  startedMs: number;
  report: SoakReport;
}

const DAY_MS = 86_400_000;

/**
 * Judge a history of soak reports against promotion criteria (docs/readiness.md). Pure: the same
 * reports and policy give the same result. Throws `input_invalid` (naming the file) for a report
 * without trial counts or a valid start time, the same run_id twice, or reports of different targets.
 */
export function assessReadiness(
  history: readonly HistoryReport[],
  policy: ReadinessPolicy,
  meta: { assayVersion: string; directory: string },
): ReadinessResult {
  const all = history.map(toRun);
  checkOneHistory(all);
  const t = policy.thresholds;
  // Most recent first; ties (equal start times) broken by run_id, then file, so the window is stable.
  const newest = [...all].sort(
    (a, b) => b.startedMs - a.startedMs || cmp(a.run_id, b.run_id) || cmp(a.file, b.file),
  );
  const window = newest.slice(0, t.window).reverse();
  const flakes = findFlakes(window);

  const criteria = [
    ...sufficiency(window, all.length, t),
    ...rates(window, t),
    flakeCriterion(flakes, t.max_flake_rate),
    ...durations(window, t),
    ...upstreamOnly(window, t),
  ];
  const insufficient = criteria.some(
    (c) => c.status === "no_data" || (c.kind === "sufficiency" && c.status === "not_met"),
  );
  const notMet = criteria.some((c) => c.status === "not_met");
  const verdict: ReadinessVerdict = insufficient ? "insufficient_data" : notMet ? "not_ready" : "ready";
  return {
    schema_version: "soak-readiness-v1",
    assay_version: meta.assayVersion,
    verdict,
    exit_code: verdict === "ready" ? 0 : verdict === "not_ready" ? 1 : 2,
    reasons: criteria.filter((c) => c.status !== "met").map((c) => `${c.id}: ${c.explanation}`),
    policy,
    history: { directory: meta.directory, reports_read: history.length, runs_considered: window.length },
    runs: window.map(({ startedMs: _s, report: _r, ...run }) => run),
    flakes: { scenarios_observed: flakes.observed, flaky: flakes.flaky, from_sample: flakes.fromSample },
    criteria,
  };
}

function toRun({ file, report }: HistoryReport): Run {
  const used = report.summary.thresholds_used;
  const count = (key: string): number => {
    const v = used[key];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
      throw new AssayError(
        "input_invalid",
        `summary.thresholds_used.${key} must be a non-negative integer (the trial counts readiness pools), got \`${JSON.stringify(v)}\``,
        { where: file },
      );
    }
    return v;
  };
  const pass = count("pass_count");
  const fail = count("fail_count");
  const infra = count("infra_error_count");
  const startedMs = Date.parse(report.run.started_at_utc);
  if (!Number.isFinite(startedMs)) {
    throw new AssayError(
      "input_invalid",
      `run.started_at_utc \`${report.run.started_at_utc}\` is not a time`,
      {
        where: file,
      },
    );
  }
  const ran = pass + fail + infra;
  return {
    file,
    run_id: report.run.run_id,
    started_at_utc: report.run.started_at_utc,
    bundle_id: report.target.bundle_id,
    bundle_digest: report.target.bundle_digest,
    pass_rate: report.summary.pass_rate,
    trials_run: ran,
    pass_count: pass,
    fail_count: fail,
    infra_error_count: infra,
    duration_seconds: report.run.duration_seconds,
    sample_rate: report.sample_rate ?? (ran === 0 ? 1 : Math.min(1, (report.trials ?? []).length / ran)),
    startedMs,
    report,
  };
}

/** A run counted twice, or two targets in one history, would make the verdict about nothing real. */
function checkOneHistory(runs: readonly Run[]): void {
  const byId = new Map<string, string>();
  for (const r of runs) {
    const other = byId.get(r.run_id);
    if (other !== undefined)
      throw new AssayError("input_invalid", `run \`${r.run_id}\` is also in \`${other}\``, { where: r.file });
    byId.set(r.run_id, r.file);
  }
  const first = runs[0];
  if (!first) return;
  const target = targetId(first.bundle_id);
  for (const r of runs) {
    if (targetId(r.bundle_id) !== target) {
      throw new AssayError(
        "input_invalid",
        `target \`${targetId(r.bundle_id)}\` differs from \`${target}\` in \`${first.file}\`: keep one target's reports per history directory`,
        { where: r.file },
      );
    }
  }
}

/** `demo-agent` for `demo-agent@1.0.0`: versions of one target belong to one history. */
function targetId(bundleId: string): string {
  const at = bundleId.lastIndexOf("@");
  return at > 0 ? bundleId.slice(0, at) : bundleId;
}

function sufficiency(window: readonly Run[], reports: number, t: ReadinessThresholds): ReadinessCriterion[] {
  const n = window.length;
  const runs = judge("runs_observed", "sufficiency", ">=", t.min_runs, n, () =>
    n === reports
      ? `${n} run(s) in the history, the window holds up to ${t.window}; at least ${t.min_runs} are needed`
      : `the most recent ${n} of ${reports} runs; at least ${t.min_runs} are needed`,
  );
  const first = window[0];
  const last = window[n - 1];
  const span = first && last ? (last.startedMs - first.startedMs) / DAY_MS : null;
  const spanC = judge("span_days", "sufficiency", ">=", t.min_span_days, span, (v) =>
    first && last
      ? `first to last run start ${v.toFixed(2)} days (${first.started_at_utc} to ${last.started_at_utc}); at least ${t.min_span_days} are needed`
      : "no runs",
  );
  return [runs, spanC];
}

function rates(window: readonly Run[], t: ReadinessThresholds): ReadinessCriterion[] {
  let pass = 0;
  let fail = 0;
  let infra = 0;
  for (const r of window) {
    pass += r.pass_count;
    fail += r.fail_count;
    infra += r.infra_error_count;
  }
  const judged = pass + fail;
  const ran = judged + infra;
  const over = `over ${window.length} run(s)`;
  return [
    judge(
      "pass_rate",
      "threshold",
      ">=",
      t.min_pass_rate,
      judged === 0 ? null : pass / judged,
      (v) =>
        `${pass} pass of ${judged} judged trials ${over} = ${pct(v)} (${infra} infra error(s) excluded); at least ${limit(t.min_pass_rate)} is needed`,
    ),
    judge(
      "ci95_lower",
      "threshold",
      ">=",
      t.ci_lower_floor,
      judged === 0 ? null : wilsonInterval(pass, judged)[0],
      (v) =>
        `Wilson 95% lower bound of ${pass}/${judged} = ${pct(v)}; the floor is ${limit(t.ci_lower_floor)}`,
    ),
    judge(
      "infra_error_rate",
      "threshold",
      "<=",
      t.max_infra_error_rate,
      ran === 0 ? null : infra / ran,
      (v) =>
        `${infra} infra error(s) in ${ran} trials ${over} = ${pct(v)}; at most ${limit(t.max_infra_error_rate)} is allowed`,
    ),
  ];
}

interface Flakes {
  observed: number;
  flaky: FlakyScenario[];
  fromSample: boolean;
}

/**
 * Per-scenario outcomes come from each report's `trials` (trial_id `<scenario>#<index>`): every
 * trial up to the report's trial limit, a sample past it (then a flake may be missed: `fromSample`).
 */
function findFlakes(window: readonly Run[]): Flakes {
  const tallies = new Map<string, { scenario: string; digest: string; passes: number; fails: number }>();
  const scenarios = new Set<string>();
  let fromSample = false;
  for (const r of window) {
    const trials = r.report.trials ?? [];
    if (trials.length < r.trials_run) fromSample = true;
    for (const trial of trials) {
      if (trial.outcome === "infra_error") continue;
      const id = trial.trial_id ?? "";
      const scenario = id.slice(0, Math.max(0, id.lastIndexOf("#")));
      if (scenario === "") continue;
      scenarios.add(scenario);
      const key = `${r.bundle_digest}\n${scenario}`;
      let t = tallies.get(key);
      if (!t) {
        t = { scenario, digest: r.bundle_digest, passes: 0, fails: 0 };
        tallies.set(key, t);
      }
      if (trial.outcome === "pass") t.passes++;
      else t.fails++;
    }
  }
  const flaky = [...tallies.values()]
    .filter((t) => t.passes > 0 && t.fails > 0)
    .map((t) => ({ scenario: t.scenario, bundle_digest: t.digest, passes: t.passes, fails: t.fails }))
    .sort((a, b) => cmp(a.scenario, b.scenario) || cmp(a.bundle_digest, b.bundle_digest));
  return { observed: scenarios.size, flaky, fromSample };
}

function flakeCriterion(f: Flakes, max: number): ReadinessCriterion {
  const names = [...new Set(f.flaky.map((x) => x.scenario))];
  const rate = f.observed === 0 ? null : names.length / f.observed;
  const list = names.length === 0 ? "" : ` (${names.slice(0, 5).join(", ")}${names.length > 5 ? ", …" : ""})`;
  const sampled = f.fromSample ? "; from sampled trials, so a lower bound" : "";
  return judge(
    "flake_rate",
    "threshold",
    "<=",
    max,
    rate,
    (v) =>
      `${names.length} of ${f.observed} scenario(s) both passed and failed under one bundle digest${list} = ${pct(v)}${sampled}; at most ${limit(max)} is allowed`,
  );
}

function durations(window: readonly Run[], t: ReadinessThresholds): ReadinessCriterion[] {
  const minutes = window.map((r) => r.duration_seconds / 60).sort((a, b) => a - b);
  const n = minutes.length;
  const median =
    n === 0
      ? null
      : n % 2 === 1
        ? (minutes[(n - 1) / 2] as number)
        : ((minutes[n / 2 - 1] as number) + (minutes[n / 2] as number)) / 2;
  // Nearest rank: the smallest duration at least 95% of the runs do not exceed.
  const p95 = n === 0 ? null : (minutes[Math.ceil(0.95 * n) - 1] as number);
  return [
    judge(
      "median_duration_minutes",
      "threshold",
      "<=",
      t.max_median_duration_minutes,
      median,
      (v) =>
        `median run duration ${v.toFixed(2)} min over ${n} run(s); at most ${t.max_median_duration_minutes} min is allowed`,
    ),
    judge(
      "p95_duration_minutes",
      "threshold",
      "<=",
      t.max_p95_duration_minutes,
      p95,
      (v) =>
        `95th percentile (nearest rank) run duration ${v.toFixed(2)} min over ${n} run(s); at most ${t.max_p95_duration_minutes} min is allowed`,
    ),
  ];
}

/**
 * The upstream policy's contract and unknown rates, applied when a policy sets them. Both are 0 by
 * construction here: a report that breaks soak-report-v1 stops readiness (exit 2) when it is read,
 * and the schema allows no trial outcome but pass, fail and infra_error.
 */
function upstreamOnly(window: readonly Run[], t: ReadinessThresholds): ReadinessCriterion[] {
  const out: ReadinessCriterion[] = [];
  const n = window.length;
  if (t.max_contract_fail_rate !== undefined) {
    const max = t.max_contract_fail_rate;
    out.push(
      judge(
        "contract_fail_rate",
        "threshold",
        "<=",
        max,
        n === 0 ? null : 0,
        () =>
          `0 of ${n} run(s) break soak-report-v1 (every report is validated when read; one that breaks it stops with exit 2); at most ${limit(max)} is allowed`,
      ),
    );
  }
  if (t.max_unknown_rate !== undefined) {
    const max = t.max_unknown_rate;
    const ran = window.reduce((s, r) => s + r.trials_run, 0);
    out.push(
      judge(
        "unknown_rate",
        "threshold",
        "<=",
        max,
        ran === 0 ? null : 0,
        () =>
          `0 of ${ran} trials unclassified (soak-report-v1 gives every trial pass, fail or infra_error); at most ${limit(max)} is allowed`,
      ),
    );
  }
  return out;
}

function judge(
  id: CriterionId,
  kind: ReadinessCriterion["kind"],
  comparison: ReadinessCriterion["comparison"],
  threshold: number,
  observed: number | null,
  explain: (observed: number) => string,
): ReadinessCriterion {
  if (observed === null) {
    return { id, kind, comparison, threshold, observed, status: "no_data", explanation: noData(id) };
  }
  const met = comparison === ">=" ? observed >= threshold : observed <= threshold;
  return {
    id,
    kind,
    comparison,
    threshold,
    observed,
    status: met ? "met" : "not_met",
    explanation: explain(observed),
  };
}

function noData(id: CriterionId): string {
  switch (id) {
    case "pass_rate":
    case "ci95_lower":
      return "no judged trial in the window";
    case "flake_rate":
      return "no trial in the window names a scenario (`<scenario>#<index>`)";
    default:
      return "no run in the window";
  }
}

/** An observed rate: always two decimals, so 94.996% never reads as 95%. */
function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

/** A policy's limit, as written: 95%, 0.5%. */
function limit(x: number): string {
  return `${Number((x * 100).toFixed(6))}%`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
