import { shapeCall } from "./call-shape.js";
import { type DecisionContext, decideInState } from "./decide.js";
import type { TraceViolation } from "./decision.js";
import { violation } from "./evaluate-rule.js";
import type { CompiledPolicy, SequenceRule } from "./ir.js";
import { type ResolvedPlan, type RulePlan, resolvePlan } from "./rule-plan.js";
import { newSessionState, recordCall } from "./session-state.js";
import { matchToolPattern } from "./tool-pattern.js";

/** A trace: the ordered calls an agent made, each `{tool, arguments?, context?}`. */
export type Trace =
  | readonly unknown[]
  | { readonly calls: readonly unknown[]; readonly context?: DecisionContext };

export interface CheckTraceOptions {
  /**
   * The plan (src/adapt) for one call's context (the trace's context with the call's own over it):
   * each call then runs only its plan's active rules, with the same findings as without plans.
   * Called once per distinct context object; undefined decides that context's calls without a plan.
   */
  readonly planFor?: (context: DecisionContext) => RulePlan | undefined;
}

/**
 * Check a whole trace: every call is decided as the next call of one session (so limit and
 * sequence rules see what came before), then trace-level sequence rules (require, eventually,
 * after) run over the full order. Every call in a trace happened, so each one is counted.
 */
export function checkTrace(
  policy: CompiledPolicy,
  trace: Trace,
  opts: CheckTraceOptions = {},
): TraceViolation[] {
  const calls = Array.isArray(trace) ? trace : (trace as { calls: readonly unknown[] }).calls;
  const traceContext: DecisionContext =
    (!Array.isArray(trace) && (trace as { context?: DecisionContext }).context) || {};
  const state = newSessionState(policy);
  // One plan per context object: the calls that carry no context of their own share the trace's,
  // so it is planned and checked once, not once per call (a digest over a large context is costly).
  const plans = new Map<DecisionContext, ResolvedPlan | undefined>();
  const planOf = (context: DecisionContext): ResolvedPlan | undefined => {
    if (opts.planFor === undefined) return undefined;
    if (!plans.has(context)) {
      const p = opts.planFor(context);
      plans.set(context, p === undefined ? undefined : resolvePlan(policy, p, context));
    }
    return plans.get(context);
  };
  const out: TraceViolation[] = [];
  const tools: string[] = [];
  calls.forEach((raw, index) => {
    const shaped = shapeCall(raw, policy.limits);
    const ownContext = raw && typeof raw === "object" ? (raw as { context?: unknown }).context : undefined;
    const context =
      ownContext && typeof ownContext === "object" ? { ...traceContext, ...ownContext } : traceContext;
    const plan = planOf(context);
    const decision = decideInState(policy, shaped, context, state, plan);
    for (const v of decision.violations)
      out.push({ ...v, path: `/calls/${index}${v.path}`, call_index: index });
    const tool = shaped.ok ? shaped.call.tool : "";
    tools.push(tool);
    if (shaped.ok) recordCall(policy, state, tool);
  });
  const bindings = policy.celBindings("", {}, traceContext);
  for (const rule of policy.offlineRules) {
    let applies: boolean;
    try {
      applies = rule.when.every((w) => w.run(bindings) === true);
    } catch (err) {
      out.push({
        ...violation(rule, "evaluation_error", "", `rule could not be evaluated: ${(err as Error).message}`),
        effect: "deny",
        call_index: null,
      });
      continue;
    }
    if (applies) out.push(...offlineViolations(rule, tools));
  }
  return out;
}

function offlineViolations(rule: SequenceRule, tools: readonly string[]): TraceViolation[] {
  const s = rule.sequence;
  const found = (message: string, index: number | null): TraceViolation => ({
    ...violation(rule, "sequence_violation", index === null ? "" : `/calls/${index}`, message),
    call_index: index,
  });
  switch (s.op) {
    case "require":
      return tools.some((t) => matchToolPattern(s.tool, t))
        ? []
        : [found(`no call to \`${s.tool.source}\` in the trace`, null)];
    case "eventually": {
      const limit = s.within ?? tools.length;
      const hit = tools.findIndex((t) => matchToolPattern(s.tool, t));
      if (hit >= 0 && hit < limit) return [];
      return [
        found(
          `no call to \`${s.tool.source}\`${s.within ? ` within the first ${s.within} calls` : ""}`,
          null,
        ),
      ];
    }
    case "after": {
      const misses: TraceViolation[] = [];
      tools.forEach((t, i) => {
        if (!matchToolPattern(s.trigger, t)) return;
        const window = tools.slice(i + 1, i + 1 + s.within);
        if (!window.some((w) => matchToolPattern(s.next, w))) {
          misses.push(found(`no \`${s.next.source}\` within ${s.within} calls after \`${t}\``, i));
        }
      });
      return misses;
    }
    default:
      return [];
  }
}
