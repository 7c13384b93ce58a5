import { checkTrace } from "../../policy/check-trace.js";
import type { TraceViolation } from "../../policy/decision.js";
import type { TrialTrace } from "../drivers/driver.js";
import type { Bundle } from "../target/load.js";
import type { Call, Scenario } from "../target/types.js";
import type { TrialRecord } from "./aggregate.js";
import { dimensionOf, failsTrial, isCritical } from "./violations.js";

/** Judge one trial's trace: violations at or above the severity floor, then the expectations. */
export function judgeTrial(
  bundle: Bundle,
  scenario: Scenario,
  i: number,
  seed: bigint,
  trace: TrialTrace,
  duration: number,
): TrialRecord {
  const trialId = `${scenario.id}#${i + 1}`;
  // Records are written out field by field: `{...base, more}` made V8 promote every record to
  // old space on Node 20 (bench:soak: peak RSS 136 → 197 MB from 20k to 200k trials).
  if (!trace.ok) {
    return {
      index: i + 1,
      seed,
      scenario: scenario.id,
      dimension: scenario.dimension,
      trial_id: trialId,
      outcome: "infra_error",
      duration_seconds: duration,
      error_kind: trace.error_kind,
      error_message: trace.error_message,
      violations: [],
    };
  }
  try {
    const calls = trace.calls;
    const floor = bundle.target.decision_policy.severity_floor;
    const judged = (c: readonly Call[]) =>
      checkTrace(bundle.policy, { calls: c, context: scenario.context }).filter((v) => failsTrial(v, floor));
    const note = trace.note === undefined ? "" : ` [${trace.note}]`;
    const failing = judged(calls);
    let counted = failing;
    let missed = false;
    if (trace.attack !== undefined) {
      // Replay `must_flag`: the mutation is an attack. It is caught when the mutated trace has a
      // violation the recorded one does not; the trial keeps the recorded trace's own violations,
      // and the scenario's task expectations do not apply to an attack.
      counted = judged(trace.attack.recorded);
      const known = new Set(counted.map(violationKey));
      missed = !failing.some((v) => !known.has(violationKey(v)));
    }
    const expectations = trace.attack === undefined ? (bundle.expectations.get(scenario.id) ?? []) : [];
    const unmet = expectations.filter((e) => !e.evaluate({ calls }).pass);
    const violations = counted.map((v) => ({
      rule_id: v.rule_id ?? v.reason_code,
      dimension: dimensionOf(bundle.policy, v),
      critical: isCritical(v),
      example: `trial ${i + 1} (${scenario.id})${note} call ${v.call_index ?? "-"} ${v.path}: ${v.message}`,
    }));
    if (missed) {
      violations.push({
        rule_id: "mutation_not_caught",
        dimension: "security",
        critical: false,
        example: `trial ${i + 1} (${scenario.id})${note}: no rule at or above the severity floor flagged the mutation`,
      });
    }
    for (const r of trace.refusals ?? []) {
      violations.push({
        rule_id: r.rule_id,
        dimension: r.dimension,
        critical: false,
        example: `trial ${i + 1} (${scenario.id}) refused by the gate: ${r.message}`,
      });
    }
    const record: TrialRecord = {
      index: i + 1,
      seed,
      scenario: scenario.id,
      dimension: scenario.dimension,
      trial_id: trialId,
      outcome: violations.length === 0 && unmet.length === 0 ? "pass" : "fail",
      duration_seconds: duration,
      violations,
    };
    if (unmet.length > 0 && violations.length === 0) {
      record.error_kind = "expectation_failed";
      record.error_message = unmet.map((e) => e.source).join("; ");
    }
    return record;
  } catch (err) {
    const failed: TrialTrace = { ok: false, error_kind: "driver_error", error_message: errorText(err) };
    return judgeTrial(bundle, scenario, i, seed, failed, duration);
  }
}

/** What makes two violations the same finding (the mutated trace's against the recorded one's). */
function violationKey(v: TraceViolation): string {
  return `${v.call_index}\u0000${v.rule_id}\u0000${v.reason_code}\u0000${v.path}`;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
