import { writeFileAtomic } from "../../lib/atomic-write.js";
import { AssayError } from "../../lib/errors.js";
import { refuseOverlappingOutputs } from "../../lib/output-paths.js";
import { PACKAGE } from "../../lib/package-info.js";
import { readHistory } from "../../sim/readiness/history.js";
import { defaultReadinessPolicy, loadReadinessPolicy } from "../../sim/readiness/policy.js";
import {
  assessReadiness,
  type ReadinessCriterion,
  type ReadinessResult,
} from "../../sim/readiness/readiness.js";
import { readinessProblems, serializeReadiness } from "../../sim/readiness/report.js";

const { version } = PACKAGE;

export interface ReadinessCli {
  history: string;
  policy?: string;
  out?: string;
  json?: boolean;
}

export async function simReadiness(opts: ReadinessCli): Promise<number> {
  refuseOverlappingOutputs(
    [{ path: opts.out, option: "--out" }],
    [{ path: opts.policy, option: "--policy" }],
    [{ path: opts.history, option: "--history", flat: true }],
  );
  const policy =
    opts.policy === undefined ? defaultReadinessPolicy() : await loadReadinessPolicy(opts.policy);
  const history = await readHistory(opts.history);
  const result = assessReadiness(history, policy, { assayVersion: version, directory: opts.history });
  const problems = readinessProblems(result);
  if (problems.length > 0) {
    // Never written silently: a readiness file that breaks its contract is a failure of ours.
    throw new AssayError(
      "internal",
      `the readiness result does not match soak-readiness-v1: ${problems.slice(0, 3).join("; ")}`,
    );
  }
  const text = serializeReadiness(result);
  if (opts.out !== undefined) await writeFileAtomic(opts.out, text);
  process.stdout.write(opts.json === true ? text : table(result, opts.out));
  return result.exit_code;
}

function table(r: ReadinessResult, out: string | undefined): string {
  const p = r.policy;
  const policy =
    p.format === "default"
      ? "built-in defaults"
      : `${p.source}${p.format === "upstream" ? ` (${p.policy_version}, mapped)` : ""}`;
  const digests = new Set(r.runs.map((x) => x.bundle_digest)).size;
  const lines = [
    `history   ${r.history.directory}  ${r.history.reports_read} report(s); window: the most recent ${p.thresholds.window}`,
    `policy    ${policy}`,
    `runs      ${r.runs.length}${r.runs[0] ? ` from ${r.runs[0].started_at_utc} to ${r.runs[r.runs.length - 1]?.started_at_utc}` : ""}  ${digests} bundle digest(s)`,
    "",
  ];
  for (const c of r.criteria) {
    lines.push(
      `${c.status.padEnd(8)} ${c.id.padEnd(24)} ${show(c, c.observed)} ${c.comparison} ${show(c, c.threshold)}`,
      `         ${c.explanation}`,
    );
  }
  const headline = { ready: "READY", not_ready: "NOT READY", insufficient_data: "INSUFFICIENT DATA" }[
    r.verdict
  ];
  const why = r.criteria.filter((c) => c.status !== "met").map((c) => c.id);
  lines.push("", `verdict   ${headline}${why.length > 0 ? `: ${why.join(", ")}` : ""}`);
  if (out !== undefined) lines.push(`readiness ${out}`);
  return `${lines.join("\n")}\n`;
}

function show(c: ReadinessCriterion, x: number | null): string {
  if (x === null) return "-";
  switch (c.id) {
    case "runs_observed":
      return String(x);
    case "span_days":
      return `${x.toFixed(2)} d`;
    case "median_duration_minutes":
    case "p95_duration_minutes":
      return `${x.toFixed(2)} min`;
    default:
      return `${(x * 100).toFixed(2)}%`;
  }
}
