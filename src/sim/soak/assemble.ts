import { DIMENSIONS, type Dimension } from "../../policy/pack-types.js";
import { passKByScenario } from "../stats/pass-k.js";
import { sampleRate } from "../stats/sample.js";
import { wilsonInterval } from "../stats/wilson.js";
import { passKCounts, violationsTable } from "./aggregate.js";
import type { DimensionStats, SoakReport } from "./report.js";
import type { ShardInfo } from "./shard-info.js";
import type { SoakTotals } from "./totals.js";
import type { SoakVerdict } from "./verdict.js";

export interface ReportHeader {
  assayVersion: string;
  run: Omit<SoakReport["run"], "evaluation_unit">;
  traceparent: string;
  target: SoakReport["target"];
  decisionPolicy: SoakReport["decision_policy"];
}

/**
 * The soak-report-v1 for `totals`. Every number is recomputed here from integer counts, so shards
 * merged and one run over the same trials give the same bytes. `shard` (what `sim merge` needs)
 * goes into `summary.thresholds_used.shard` and only there.
 */
export function assembleSoakReport(
  h: ReportHeader,
  totals: SoakTotals,
  canaries: NonNullable<SoakReport["canaries"]>,
  verdict: SoakVerdict,
  shard?: ShardInfo,
): SoakReport {
  const judged = totals.passes + totals.fails;
  const passRate = judged === 0 ? 0 : totals.passes / judged;
  const infraRate = totals.ran === 0 ? 0 : totals.infra / totals.ran;
  const sampled = totals.ran > totals.kept.length;
  const dimensions = {} as Record<Dimension, DimensionStats>;
  for (const dim of DIMENSIONS) {
    const c = totals.dimensions[dim];
    const n = c.pass + c.fail;
    dimensions[dim] = { pass_rate: n === 0 ? 0 : c.pass / n, pass_count: c.pass, fail_count: c.fail };
  }
  return {
    schema_version: "soak-report-v1",
    report_version: 1,
    assay_version: h.assayVersion,
    run: { ...h.run, evaluation_unit: "scenario" },
    trace: { traceparent: h.traceparent },
    target: h.target,
    decision_policy: h.decisionPolicy,
    summary: {
      pass_all: verdict.exit === 0,
      pass_rate: passRate,
      ci_95: wilsonInterval(totals.passes, judged),
      dimensions,
      // The schema leaves this object open: the counts behind the rates and pass^k live here.
      thresholds_used: {
        ...h.decisionPolicy.thresholds,
        trials_run: totals.ran,
        trials_judged: judged,
        pass_count: totals.passes,
        fail_count: totals.fails,
        infra_error_count: totals.infra,
        infra_error_rate: infraRate,
        critical_violations: totals.critical,
        pass_hat_k: passKByScenario(passKCounts(totals.scenarios)),
        verdict_reasons: verdict.reasons,
        ...(shard === undefined ? {} : { shard }),
      },
    },
    trials: totals.kept.map(({ trial: t }) => ({
      trial_id: t.trial_id ?? `#${t.index}`,
      index: t.index,
      seed: t.seed,
      outcome: t.outcome,
      duration_seconds: t.duration_seconds,
      ...(t.error_kind === undefined ? {} : { error_kind: t.error_kind }),
      ...(t.error_message === undefined ? {} : { error_message: t.error_message }),
    })),
    violations: violationsTable(totals.rules),
    canaries,
    ...(sampled
      ? {
          iterations_sampled: totals.kept.map(({ trial: t, dimension }) => ({
            index: t.index,
            status: t.outcome,
            ...(t.outcome === "infra_error"
              ? {}
              : { dimension_outcomes: { [dimension]: t.outcome === "pass" ? "pass" : "fail" } }),
          })),
        }
      : {}),
    sample_rate: sampleRate(totals.kept.length, totals.ran),
  };
}
