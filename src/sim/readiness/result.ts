import type { ReadinessPolicy } from "./policy.js";

/* The readiness file (schemas/soak-readiness.schema.json) and the parts it is made of. */

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

/** The readiness file. */
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
