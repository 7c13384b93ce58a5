import { canonicalDigest } from "../lib/canonical-json.js";
import { AssayError } from "../lib/errors.js";
import type { CelProgram } from "./cel.js";
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

/**
 * The `sha256:` digest of the canonical JSON (RFC 8785) of the planning context. Only plain JSON
 * values are planned for: CEL reads the live values, and a Map, a Set, a class instance or a
 * BigInt would look different to CEL than its JSON text does, so two contexts a rule tells apart
 * could share a digest (and a plan). Anything else is `adapt_plan_mismatch`.
 */
export function contextDigest(context: Record<string, unknown>): string {
  const planning = planningContext(context);
  const bad = notPlainJson(planning, "");
  if (bad !== undefined)
    throw new AssayError(
      "adapt_plan_mismatch",
      `a plan needs a context of plain JSON values: \`${bad || "/"}\` is not one`,
    );
  return canonicalDigest(planning);
}

/**
 * The planning context as CEL reads it, as text: JSON with each object's members in their own
 * order and `-0` told apart from `0`. Two contexts with one digest can differ here
 * (`{"a":1,"b":2}` and `{"b":2,"a":1}`, `-0` and `0`) and CEL can tell them apart (a map's first
 * key, `1.0 / x`), so a plan is checked, and cached, for this text as well as for the digest.
 * INVARIANT: contextDigest accepted the context (plain JSON), which also tells `-0` from `"-0"`.
 */
export function contextText(context: Record<string, unknown>): string {
  return JSON.stringify(planningContext(context), (_key, v) => (Object.is(v, -0) ? "-0" : v));
}

/** The JSON pointer of the first value that is not plain JSON, or undefined. */
function notPlainJson(v: unknown, at: string): string | undefined {
  if (v === null || typeof v === "string" || typeof v === "boolean") return undefined;
  if (typeof v === "number") return Number.isFinite(v) ? undefined : at;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const bad = notPlainJson(v[i], `${at}/${i}`);
      if (bad !== undefined) return bad;
    }
    return undefined;
  }
  if (typeof v !== "object") return at;
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) return at;
  for (const [k, x] of Object.entries(v)) {
    const bad = notPlainJson(x, `${at}/${k.replace(/~/g, "~0").replace(/\//g, "~1")}`);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

/** Does the program read only the planning context (not the call, not `context.history`)? */
export function contextOnly(program: CelProgram): boolean {
  const v = program.reads.variables;
  return !program.reads.history && !v.includes("tool") && !v.includes("args");
}

/**
 * Whether deciding any call in `context` would skip `rule`: its `when` entries, walked as decide
 * walks them, reach a context-only entry that is false while every entry before it read only the
 * context and held. `test` runs a program on the planning context (true, false, or "error" for a
 * failure or a non-bool, which keeps the rule: fail closed).
 */
export function skippedInContext(rule: CompiledRule, test: (p: CelProgram) => boolean | "error"): boolean {
  for (const program of rule.when) {
    if (!contextOnly(program)) return false;
    const v = test(program);
    if (v !== true) return v === false;
  }
  return false;
}

/** A plan resolved against its policy: the active rules and each one's place in the order. */
export interface ResolvedPlan {
  readonly position: ReadonlyMap<CompiledRule, number>;
  /** The planning context it was checked for (contextText). */
  readonly context: string;
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
  const text = contextText(context);
  let r = byPolicy.get(policy);
  if (r?.context !== text) {
    const position = new Map<CompiledRule, number>();
    for (const [i, id] of plan.order.entries()) {
      const rule = policy.ruleById.get(id);
      if (!rule)
        throw new AssayError("adapt_plan_mismatch", `plan names rule \`${id}\`, which the policy lacks`);
      if (!position.has(rule)) position.set(rule, i);
    }
    // A plan is data (a file, an object anyone can build): every rule it leaves out must be one
    // this context skips, or the plan would silently drop a rule that applies. Checked once per
    // plan object, policy and context text (see contextText); the context's digest, checked on
    // every call, pins what it was checked against (plain JSON only, see contextDigest).
    const bindings = policy.celBindings("", {}, planningContext(context));
    const memo = new Map<CelProgram, boolean | "error">();
    const test = (p: CelProgram): boolean | "error" => {
      let v = memo.get(p);
      if (v === undefined) {
        try {
          const out = p.run(bindings);
          v = typeof out === "boolean" ? out : "error";
        } catch {
          v = "error";
        }
        memo.set(p, v);
      }
      return v;
    };
    for (const rule of policy.rules)
      if (!position.has(rule) && !skippedInContext(rule, test))
        throw new AssayError(
          "adapt_plan_mismatch",
          `plan leaves out rule \`${rule.id}\`, which applies in this context`,
        );
    r = { position, context: text };
    byPolicy.set(policy, r);
  }
  return r;
}
