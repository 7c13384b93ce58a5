import type { Plan } from "../../adapt/plan.js";
import { AssayError } from "../../lib/errors.js";
import type { CompiledPolicy } from "../../policy/ir.js";
import type { ServeDeps } from "../app.js";
import { HttpError } from "../http-error.js";
import type { LoadedPolicy } from "../policy-store.js";

/** The loaded policy `id`, or 404 pointing at where the request named it. */
export function lookupPolicy(deps: ServeDeps, id: string, pointer: string): LoadedPolicy {
  const policy = deps.store.get(id);
  if (policy === undefined) {
    throw new HttpError(
      404,
      "policy_not_found",
      `no policy \`${id}\` is loaded (GET /v1/policies lists them)`,
      {
        pointer,
      },
    );
  }
  return policy;
}

/** The plan for (policy, context) through the service's plan cache, counting hits and misses. */
export function planFor(deps: ServeDeps, compiled: CompiledPolicy, context: Record<string, unknown>): Plan {
  const before = deps.plans.hits;
  const plan = deps.plans.plan(compiled, context);
  deps.metrics.cache("plan", deps.plans.hits > before);
  return plan;
}

/**
 * The plan, or why there is none: a context that is not plain JSON (a number out of range) or is
 * nested too deep has no digest, so no plan. The caller then decides without one (the same
 * verdict) or, where the plan is the answer, refuses the body.
 */
export function tryPlanFor(
  deps: ServeDeps,
  compiled: CompiledPolicy,
  context: Record<string, unknown>,
): { plan: Plan } | { why: string } {
  try {
    return { plan: planFor(deps, compiled, context) };
  } catch (err) {
    if (!(err instanceof AssayError) && !(err instanceof RangeError)) throw err;
    deps.metrics.adapt.selectionFailed();
    return { why: err instanceof AssayError ? err.message : "the context is nested too deeply to plan" };
  }
}
