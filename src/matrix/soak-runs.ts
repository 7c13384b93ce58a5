import { wilsonInterval } from "../sim/stats/wilson.js";
import type { Artifact } from "./artifact.js";
import type { SoakRun } from "./matrix-doc.js";

interface SoakReportView {
  run: { run_id: string; started_at_utc: string };
  target: { bundle_id: string };
  summary: {
    pass_rate: number;
    ci_95: [number, number];
    dimensions: Record<string, { pass_rate: number; pass_count: number; fail_count: number }>;
    thresholds_used?: { trials_run?: number; pass_hat_k?: { k: number; value: number }[] };
  };
  violations?: { rule_id: string; count: number }[];
}

/** The figures the report's charts show, from every soak report among the evidence (oldest first). */
export function soakRuns(artifacts: readonly Artifact[]): SoakRun[] {
  return artifacts
    .filter((a) => a.kind === "soak_report")
    .map((a) => toRun(a.path, a.data as unknown as SoakReportView))
    .sort((x, y) =>
      x.started_at_utc < y.started_at_utc
        ? -1
        : x.started_at_utc > y.started_at_utc
          ? 1
          : x.path < y.path
            ? -1
            : 1,
    );
}

function toRun(path: string, r: SoakReportView): SoakRun {
  const dimensions = Object.entries(r.summary.dimensions)
    .map(([dimension, d]) => {
      const n = d.pass_count + d.fail_count;
      return {
        dimension,
        pass_rate: d.pass_rate,
        passes: d.pass_count,
        n,
        ci_95: wilsonInterval(d.pass_count, n),
      };
    })
    .sort((x, y) => (x.dimension < y.dimension ? -1 : 1));
  return {
    path,
    run_id: r.run.run_id,
    bundle_id: r.target.bundle_id,
    started_at_utc: r.run.started_at_utc,
    // Both are optional in soak-report-v1 (thresholds_used is an open object).
    trials: r.summary.thresholds_used?.trials_run ?? null,
    pass_rate: r.summary.pass_rate,
    ci_95: [r.summary.ci_95[0], r.summary.ci_95[1]],
    dimensions,
    pass_hat_k: (r.summary.thresholds_used?.pass_hat_k ?? []).map(({ k, value }) => ({ k, value })),
    violations: (r.violations ?? []).map(({ rule_id, count }) => ({ rule_id, count })),
  };
}
