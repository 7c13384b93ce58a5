import { wilsonInterval } from "../stats/wilson.js";
import type { ReadinessThresholds } from "./policy.js";
import type { CriterionId, ReadinessCriterion } from "./result.js";
import type { Run } from "./runs.js";

/**
 * The criteria over a window of runs, each judged and explained: how much data there is, pooled
 * rates, durations, and the upstream policy's own rates. Flakes are judged in flakes.ts.
 */

const DAY_MS = 86_400_000;

/** Enough data: runs in the window and the days they span (not met: insufficient data, exit 2). */
export function sufficiency(
  window: readonly Run[],
  reports: number,
  t: ReadinessThresholds,
): ReadinessCriterion[] {
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

/** Pooled over the window: pass rate and its Wilson lower bound (infra errors excluded), infra error rate. */
export function rates(window: readonly Run[], t: ReadinessThresholds): ReadinessCriterion[] {
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

/** Run durations over the window: median, and p95 by nearest rank. */
export function durations(window: readonly Run[], t: ReadinessThresholds): ReadinessCriterion[] {
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
export function upstreamOnly(window: readonly Run[], t: ReadinessThresholds): ReadinessCriterion[] {
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

/** A criterion: met, not met, or no data when there is nothing to measure (`observed` null). */
export function judge(
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
export function pct(x: number): string {
  return `${(x * 100).toFixed(2)}%`;
}

/** A policy's limit, as written: 95%, 0.5%. */
export function limit(x: number): string {
  return `${Number((x * 100).toFixed(6))}%`;
}
