import { AssayError } from "../../lib/errors.js";
import type { SoakReport } from "../soak/report.js";
import type { HistoryReport } from "./history.js";
import type { ReadinessRun } from "./result.js";

/** A run of the history: what the readiness file lists, plus what judging it needs. */
export interface Run extends ReadinessRun {
  startedMs: number;
  report: SoakReport;
}

/**
 * The history's runs, checked to be one history: throws `input_invalid` (naming the file) for a
 * report without trial counts or a valid start time, the same run_id twice, or reports of
 * different targets.
 */
export function historyRuns(history: readonly HistoryReport[]): Run[] {
  const runs = history.map(toRun);
  checkOneHistory(runs);
  return runs;
}

/** The most recent `size` runs, oldest first. */
export function recentWindow(runs: readonly Run[], size: number): Run[] {
  // Most recent first; ties (equal start times) broken by run_id, then file, so the window is stable.
  const newest = [...runs].sort(
    (a, b) => b.startedMs - a.startedMs || cmp(a.run_id, b.run_id) || cmp(a.file, b.file),
  );
  return newest.slice(0, size).reverse();
}

/** Code-unit order: the same in every locale, so sorted output is stable. */
export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
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
