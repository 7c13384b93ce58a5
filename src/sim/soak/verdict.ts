import { wilsonInterval } from "../stats/wilson.js";
import type { DecisionPolicy } from "../target/types.js";
import type { SoakReport } from "./report.js";

/** What the run means for the exit code: 0 pass, 1 a threshold violated, 2 the measurement failed. */
export interface SoakVerdict {
  exit: 0 | 1 | 2;
  reasons: string[];
}

/** The counts a verdict is computed from: the same for one run and for merged shards. */
export interface VerdictInput {
  dp: DecisionPolicy;
  canaries: NonNullable<SoakReport["canaries"]>;
  iterations: number;
  ran: number;
  passes: number;
  fails: number;
  infra: number;
  critical: number;
  overBudget: boolean;
  budgetSeconds: number;
  /** `thresholds` (a soak) or `every_trial` (`sim run`: any failed trial is a finding). */
  judge: "thresholds" | "every_trial";
}

/** The verdict of a soak: measurement failures (exit 2) first, then threshold findings (exit 1). */
export function soakVerdict(v: VerdictInput): SoakVerdict {
  const { dp } = v;
  const judged = v.passes + v.fails;
  const passRate = judged === 0 ? 0 : v.passes / judged;
  const ciLower = lowerBound(v.passes, judged);
  const infraRate = v.ran === 0 ? 0 : v.infra / v.ran;
  const measurement: string[] = [];
  const findings: string[] = [];
  for (const c of v.canaries)
    if (c.status === "fail") measurement.push(`canary \`${c.name}\` failed: ${c.notes ?? ""}`);
  if (infraRate > dp.max_infra_error_rate) {
    measurement.push(`infra-error rate ${fmt(infraRate)} is above its limit ${dp.max_infra_error_rate}`);
  }
  if (v.overBudget)
    measurement.push(`time budget of ${v.budgetSeconds} s exceeded after ${v.ran} of ${v.iterations} trials`);
  if (judged === 0) measurement.push("no trial could be judged");
  if (v.judge === "every_trial") {
    if (v.fails > 0) findings.push(`${v.fails} of ${judged} trial(s) failed`);
  } else {
    if (passRate < dp.min_pass_rate) findings.push(`pass rate ${fmt(passRate)} is below ${dp.min_pass_rate}`);
    if (ciLower < dp.ci_lower_floor)
      findings.push(`CI95 lower bound ${fmt(ciLower)} is below ${dp.ci_lower_floor}`);
  }
  if (dp.fail_on_critical && v.critical > 0) findings.push(`${v.critical} critical violation(s)`);
  const exit: 0 | 1 | 2 = measurement.length > 0 ? 2 : findings.length > 0 ? 1 : 0;
  return { exit, reasons: [...measurement, ...findings] };
}

function lowerBound(passes: number, n: number): number {
  return wilsonInterval(passes, n)[0];
}

function fmt(x: number): string {
  return x.toFixed(4);
}
