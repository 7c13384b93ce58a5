import { canonicalDigest } from "../lib/canonical-json.js";
import { AssayError } from "../lib/errors.js";
import type { CompiledPolicy, CompiledRule } from "./ir.js";

/**
 * What deciding needs from a plan (src/adapt builds the full plan): the policy and planning
 * context it was built for, and the active rules in the order to evaluate them (rule ids as
 * decisions report them). Rules not in `order` are not evaluated.
 */
export interface RulePlan {
  readonly ir_digest: string;
  readonly context_digest: string;
  readonly order: readonly string[];
}

/**
 * The planning context: the decision context without `history`. `history` (the session's earlier
 * tool names) changes call by call, so it is not something a plan is built for; a `when` entry
 * that may read it is never decided by the planner (see celReads).
 */
export function planningContext(context: Record<string, unknown>): Record<string, unknown> {
  if (!Object.hasOwn(context, "history")) return context;
  const { history: _history, ...rest } = context;
  return rest;
}

/** The `sha256:` digest of the canonical JSON (RFC 8785) of the planning context. */
export function contextDigest(context: Record<string, unknown>): string {
  return canonicalDigest(planningContext(context));
}

/** A plan resolved against its policy: the active rules and each one's place in the order. */
export interface ResolvedPlan {
  readonly position: ReadonlyMap<CompiledRule, number>;
}

const resolved = new WeakMap<RulePlan, WeakMap<CompiledPolicy, ResolvedPlan>>();

/**
 * Check `plan` against the policy and context of a decision, and resolve it (once per plan and
 * policy). Throws `adapt_plan_mismatch` when the plan was built for another policy or context, or
 * names a rule the policy lacks: deciding with the wrong plan could skip a rule that applies.
 */
export function resolvePlan(
  policy: CompiledPolicy,
  plan: RulePlan,
  context: Record<string, unknown>,
): ResolvedPlan {
  if (plan.ir_digest !== policy.digest) {
    throw new AssayError(
      "adapt_plan_mismatch",
      `plan was built for policy \`${plan.ir_digest}\`, not \`${policy.digest}\``,
    );
  }
  const digest = contextDigest(context);
  if (plan.context_digest !== digest) {
    throw new AssayError(
      "adapt_plan_mismatch",
      `plan was built for context \`${plan.context_digest}\`, not \`${digest}\``,
    );
  }
  let byPolicy = resolved.get(plan);
  if (!byPolicy) {
    byPolicy = new WeakMap();
    resolved.set(plan, byPolicy);
  }
  let r = byPolicy.get(policy);
  if (!r) {
    const position = new Map<CompiledRule, number>();
    for (const [i, id] of plan.order.entries()) {
      const rule = policy.ruleById.get(id);
      if (!rule)
        throw new AssayError("adapt_plan_mismatch", `plan names rule \`${id}\`, which the policy lacks`);
      if (!position.has(rule)) position.set(rule, i);
    }
    r = { position };
    byPolicy.set(policy, r);
  }
  return r;
}
