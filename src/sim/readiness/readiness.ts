import { durations, rates, sufficiency, upstreamOnly } from "./criteria.js";
import { findFlakes, flakeCriterion } from "./flakes.js";
import type { HistoryReport } from "./history.js";
import type { ReadinessPolicy } from "./policy.js";
import type { ReadinessResult, ReadinessVerdict } from "./result.js";
import { historyRuns, recentWindow } from "./runs.js";

export type {
  CriterionId,
  FlakyScenario,
  ReadinessCriterion,
  ReadinessResult,
  ReadinessRun,
  ReadinessVerdict,
} from "./result.js";

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
  const all = historyRuns(history);
  const t = policy.thresholds;
  const window = recentWindow(all, t.window);
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
