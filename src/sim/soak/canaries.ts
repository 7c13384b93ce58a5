import { checkTrace } from "../../policy/check-trace.js";
import type { CompiledPolicy } from "../../policy/ir.js";
import type { Severity } from "../../policy/pack-types.js";
import type { Canary } from "../target/types.js";
import type { SoakReport } from "./report.js";
import { failsTrial } from "./violations.js";

type CanarySignal = NonNullable<SoakReport["canaries"]>[number];

/**
 * Run the canaries: known-bad traces must be flagged by the rules they name, known-good ones
 * must pass. A canary that comes out otherwise means the measurement cannot be trusted.
 */
export function runCanaries(
  policy: CompiledPolicy,
  canaries: readonly Canary[],
  floor: Severity,
): CanarySignal[] {
  return canaries.map((c) => {
    const violations = checkTrace(policy, { calls: c.trace, context: c.context });
    if (c.expect === "flagged") {
      const fired = new Set(violations.map((v) => v.rule_id).filter((id): id is string => id !== null));
      const missing = c.rules.filter((r) => !fired.has(r));
      return {
        name: c.id,
        status: missing.length === 0 ? "pass" : "fail",
        trigger_count: violations.length,
        ...(missing.length === 0
          ? {}
          : {
              notes: `expected ${missing.map((r) => `\`${r}\``).join(", ")} to fire; fired: ${[...fired].sort().join(", ") || "none"}`,
            }),
      };
    }
    const failing = violations.filter((v) => failsTrial(v, floor));
    return {
      name: c.id,
      status: failing.length === 0 ? "pass" : "fail",
      trigger_count: failing.length,
      ...(failing.length === 0
        ? {}
        : {
            notes: `expected clean; ${failing.map((v) => `\`${v.rule_id ?? v.reason_code}\``).join(", ")} fired`,
          }),
    };
  });
}
