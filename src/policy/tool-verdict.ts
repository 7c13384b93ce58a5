import { type DecisionContext, decide } from "./decide.js";
import type { Violation } from "./decision.js";
import type { CompiledPolicy } from "./ir.js";

/**
 * Whether the policy denies a tool by name alone, whatever its arguments: a `tools` deny, or a
 * pack's `defaults: deny` for a tool it does not list. Argument, network, limit and sequence
 * rules are not consulted (they depend on the call). Used to hide such tools from `tools/list`.
 */
export function toolDeniedOutright(
  policy: CompiledPolicy,
  tool: string,
  context: DecisionContext = {},
): Violation | undefined {
  const d = decide(policy, { tool, arguments: {} }, { ...context, history: [] });
  return d.violations.find(
    (v) => v.effect === "deny" && (v.reason_code === "tool_denied" || v.reason_code === "tool_not_allowed"),
  );
}
