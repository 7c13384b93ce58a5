import { canonicalDigest } from "../lib/canonical-json.js";
import { AssayError } from "../lib/errors.js";
import { schemaValidator } from "../lib/schema-validator.js";
import type { CompiledPolicy } from "../policy/ir.js";
import { contextDigest, type RulePlan } from "../policy/rule-plan.js";
import { type SelectorName, selectRules, type Weights } from "./select.js";

/** The plan `assay adapt` writes (schemas/adapt-plan.schema.json). */
export interface Plan {
  /** The pack id, or the pack ids in order when the policy has several packs. */
  readonly policy_id: string | readonly string[];
  readonly ir_digest: string;
  readonly context_digest: string;
  readonly selector: SelectorName;
  /** The active rules in policy order. */
  readonly active_rules: readonly string[];
  /** The active rules by (cost ascending, rule id ascending). */
  readonly order: readonly string[];
  readonly cost: Readonly<Record<string, number>>;
  readonly cost_sum: number;
  readonly reason: Readonly<Record<string, readonly string[]>>;
  readonly skipped: Readonly<Record<string, readonly string[]>>;
}

export interface BuildPlanOptions {
  readonly selector?: SelectorName;
  /** Cost overrides; only with the `weighted` selector. */
  readonly weights?: Weights;
}

/**
 * Plan the rules of `policy` for `context`: select (selectRules), then order by (cost, rule id),
 * comparing ids by UTF-16 code units so the order does not depend on a locale.
 */
export function buildPlan(
  policy: CompiledPolicy,
  context: Record<string, unknown>,
  opts: BuildPlanOptions = {},
): Plan {
  const selector = opts.selector ?? "basic";
  if (opts.weights !== undefined && selector !== "weighted") {
    throw new AssayError("input_invalid", `weights need the \`weighted\` selector, not \`${selector}\``);
  }
  const sel = selectRules(policy, context, selector === "weighted" ? opts.weights : undefined);
  const costOf = (id: string) => sel.cost.get(id) as number;
  const order = [...sel.active].sort((a, b) => costOf(a) - costOf(b) || (a < b ? -1 : a > b ? 1 : 0));
  const cost: Record<string, number> = {};
  const reason: Record<string, readonly string[]> = {};
  let costSum = 0;
  for (const id of order) {
    cost[id] = costOf(id);
    costSum += costOf(id);
    reason[id] = sel.reason.get(id) ?? [];
  }
  const skipped: Record<string, readonly string[]> = {};
  for (const [id, names] of sel.skipped) skipped[id] = names;
  const ids = policy.packs.map((p) => p.id);
  return {
    policy_id: ids.length === 1 ? (ids[0] as string) : ids,
    ir_digest: policy.digest,
    context_digest: contextDigest(context),
    selector,
    active_rules: sel.active,
    order,
    cost,
    cost_sum: costSum,
    reason,
    skipped,
  };
}

/** What decide() needs from a plan. */
export function toRulePlan(plan: Plan): RulePlan {
  // Frozen: decide() resolves a plan once per object, so a later edit must be impossible.
  return Object.freeze({
    ir_digest: plan.ir_digest,
    context_digest: plan.context_digest,
    order: Object.freeze([...plan.order]),
  });
}

/** The digest of a weights map (sorted by rule id), `none` without one: part of a plan's cache key. */
export function weightsDigest(weights: Weights | undefined): string {
  if (weights === undefined) return "none";
  return canonicalDigest(Object.fromEntries([...weights].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}

/** Check a plan against schemas/adapt-plan.schema.json; throws `input_invalid` naming the first problem. */
export function validatePlan(plan: Plan): void {
  const validate = schemaValidator("adapt-plan");
  if (!validate(plan)) {
    const e = validate.errors?.[0];
    throw new AssayError(
      "input_invalid",
      `plan does not match adapt-plan.schema.json: ${e?.instancePath || "/"} ${e?.message ?? "is invalid"}`,
    );
  }
}
