import { AssayError } from "../../lib/errors.js";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "../../lib/json-depth.js";
import { schemaValidator } from "../../lib/schema-validator.js";
import type { Dimension } from "../../policy/pack-types.js";

export type TrialOutcome = "pass" | "fail" | "infra_error";

export interface DimensionStats {
  pass_rate: number;
  pass_count: number;
  fail_count: number;
}

export interface TrialResult {
  trial_id?: string;
  index: number;
  /** u64: serialized as an exact JSON integer (see serializeSoakReport). */
  seed: bigint;
  outcome: TrialOutcome;
  duration_seconds: number;
  started_at_utc?: string;
  finished_at_utc?: string;
  error_kind?: string;
  error_message?: string;
}

export interface SoakReport {
  schema_version: "soak-report-v1";
  report_version: 1;
  assay_version: string;
  run: {
    run_id: string;
    started_at_utc: string;
    duration_seconds: number;
    seed: bigint;
    iterations: number;
    time_budget_seconds: number;
    evaluation_unit: "bundle" | "scenario" | "episode";
  };
  trace: {
    traceparent: string;
    tracestate?: string;
    run_correlation_id?: string;
    suite_correlation_id?: string;
  };
  target: { bundle_id: string; bundle_digest: string; pack_ids: string[]; policy_digest?: string };
  decision_policy: { name: string; thresholds: Record<string, unknown>; fail_mode: "warn" | "enforce" };
  summary: {
    pass_all: boolean;
    pass_rate: number;
    ci_95: [number, number];
    dimensions: Record<Dimension, DimensionStats>;
    thresholds_used: Record<string, unknown>;
  };
  trials?: TrialResult[];
  violations?: { rule_id: string; dimension?: Dimension; count: number; examples?: string[] }[];
  canaries?: { name: string; status: "pass" | "warn" | "fail"; trigger_count: number; notes?: string }[];
  iterations_sampled?: {
    index: number;
    status: TrialOutcome;
    dimension_outcomes?: Partial<Record<Dimension, "pass" | "fail">>;
  }[];
  sample_rate?: number;
}

// The reference schema uses `format: date-time`; formats are checked, not ignored (validator-specs.ts).
const validate = schemaValidator("soak-report-v1");

/** Problems with a report against schemas/soak_report_v1.schema.json (the reference copy), as lines. */
export function soakReportProblems(report: SoakReport): string[] {
  // The schema sees what a reader of the file sees: u64 seeds as JSON numbers.
  const asRead = JSON.parse(serializeSoakReport(report));
  if (validate(asRead)) return [];
  return (validate.errors ?? []).map((e) => `${e.instancePath || "/"} ${e.message ?? "is invalid"}`);
}

const U64 = "\u0000u64:";

/**
 * The report as JSON text (2-space indent, keys in the order built). u64 seeds are written as
 * exact integers: a JS number would round seeds above 2^53, and the seed is what reproduces a trial.
 */
export function serializeSoakReport(report: SoakReport): string {
  const text = JSON.stringify(report, (_k, v) => (typeof v === "bigint" ? `${U64}${v.toString()}` : v), 2);
  return `${text.replace(/"\\u0000u64:(\d+)"/g, "$1")}\n`;
}

/**
 * Parse a soak report's text. u64 seeds are read exactly (a JS number would round them above 2^53):
 * every `"seed": <digits>` becomes a bigint. Text that is not JSON throws JSON.parse's error; a
 * report nested too deep, an AssayError located at `where`.
 */
export function parseSoakReport(text: string, where?: string): SoakReport {
  const quoted = text.replace(/(?<!\\)"seed":(\s*)(\d+)/g, '"seed":$1"$2"');
  const r = JSON.parse(quoted) as SoakReport;
  // Before anything walks it recursively (the schema check): a stack overflow names no file.
  if (nestsDeeperThan(text, MAX_JSON_DEPTH))
    throw new AssayError("input_invalid", `the report nests deeper than ${MAX_JSON_DEPTH} levels`, {
      ...(where === undefined ? {} : { where }),
    });
  if (typeof r?.run?.seed === "string") r.run.seed = BigInt(r.run.seed);
  for (const t of Array.isArray(r?.trials) ? r.trials : [])
    if (typeof t?.seed === "string") t.seed = BigInt(t.seed);
  return r;
}
