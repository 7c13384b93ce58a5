import { type CallShape, shapeCall, type ToolCall } from "./call-shape.js";
import type { CelProgram } from "./cel.js";
import type { Decision, ReasonCode, Violation } from "./decision.js";
import { type FoundTargets, findTargets } from "./eval-network.js";
import { type DecisionScratch, evaluateRule, violation } from "./evaluate-rule.js";
import type { CompiledPack, CompiledPolicy, CompiledRule } from "./ir.js";
import type { NetworkIR } from "./network-ir.js";
import { type ResolvedPlan, type RulePlan, resolvePlan } from "./rule-plan.js";
import { ruleConsultedFor } from "./rule-scope.js";
import { type SessionState, stateFromHistory } from "./session-state.js";
import { closest } from "./suggest.js";
import { foldedSpellings } from "./tool-pattern.js";

/** Extra facts a decision may use: anything CEL reads as `context`, plus `history` (earlier tool names). */
export type DecisionContext = Record<string, unknown>;

/** How to decide: with a plan (src/adapt), only the plan's active rules run, in plan order. */
export interface DecideOptions {
  readonly plan?: RulePlan;
}

/**
 * Decide one tool call against a compiled policy, as the next call of a session whose earlier
 * calls are `context.history` (none by default). Never throws for a bad call: it denies.
 *
 * With `opts.plan`, the verdict, deciding rule and violations are the same as without it. The one
 * exception to "never throws": a plan built for another policy or context (or naming a rule the
 * policy lacks) throws AssayError `adapt_plan_mismatch`, a caller's mistake rather than a fact
 * about the call, which no verdict should hide.
 */
export function decide(
  policy: CompiledPolicy,
  call: unknown,
  context: DecisionContext = {},
  opts: DecideOptions = {},
): Decision {
  const plan = opts.plan === undefined ? undefined : resolvePlan(policy, opts.plan, context);
  const state = stateFromHistory(policy, context.history);
  if ("error" in state) {
    const v: Violation = {
      rule_id: null,
      path: state.path,
      message: state.error,
      reason_code: "context_invalid",
      effect: "deny",
      severity: null,
    };
    return finish(policy, [v], undefined);
  }
  return decideInState(policy, shapeCall(call, policy.limits), context, state, plan);
}

/**
 * Decide an already-shaped call against an explicit session state (used by sessions and trace
 * checks). `plan`, from resolvePlan (which checked it against this policy and context).
 */
export function decideInState(
  policy: CompiledPolicy,
  shaped: CallShape,
  context: DecisionContext,
  state: SessionState,
  plan?: ResolvedPlan,
): Decision {
  if (!shaped.ok) {
    return finish(
      policy,
      [
        {
          rule_id: null,
          path: shaped.path,
          message: shaped.message,
          reason_code: shaped.reason,
          effect: "deny",
          severity: null,
        },
      ],
      undefined,
    );
  }
  const call = shaped.call;
  const candidates = plan ? plannedCandidates(policy, plan, call.tool) : candidatesFor(policy, call.tool);
  // Which packs list the tool: bits while the packs are few (nothing allocated per call), bytes beyond.
  let mentionedBits = 0;
  const mentionedBytes = policy.packs.length > 31 ? new Uint8Array(policy.packs.length) : undefined;
  const violations: Violation[] = [];
  const scratch = new Scratch(policy, call, context);
  let allowedBy: CompiledRule | undefined;
  // With a plan, rules run out of policy order: each violation remembers its rule's index so the
  // policy order (which picks the deciding violation) can be restored.
  const owners: number[] | undefined = plan ? [] : undefined;

  // Indexed loops here and below: this runs on every call, and for...of over an array allocates
  // an iterator per loop wherever V8 does not optimise it away.
  for (let c = 0; c < candidates.length; c++) {
    const rule = candidates[c] as CompiledRule;
    try {
      if (rule.when.length > 0 && !scratch.whenHolds(rule)) continue;
      const out = evaluateRule(rule, call, scratch, state);
      if (out.mentioned) {
        if (mentionedBytes) mentionedBytes[rule.packIndex] = 1;
        else mentionedBits |= 1 << rule.packIndex;
      }
      if (out.allowed && (allowedBy === undefined || rule.index < allowedBy.index)) allowedBy = rule;
      const found = out.violations;
      for (let i = 0; i < found.length; i++) {
        violations.push(found[i] as Violation);
        owners?.push(rule.index);
      }
    } catch (err) {
      owners?.push(rule.index);
      // Fail closed: a rule that could not be evaluated denies, whatever its own effect.
      violations.push({
        ...violation(
          rule,
          "evaluation_error",
          "/arguments",
          `rule could not be evaluated: ${errorText(err)}`,
        ),
        effect: "deny",
      });
    }
  }

  if (owners) restorePolicyOrder(violations, owners);

  let defaultAllowId: string | undefined;
  for (let p = 0; p < policy.packs.length; p++) {
    const pack = policy.packs[p] as CompiledPack;
    if (mentionedBytes ? mentionedBytes[pack.index] === 1 : (mentionedBits & (1 << pack.index)) !== 0)
      continue;
    if (pack.defaults === "allow") {
      defaultAllowId ??= pack.defaultsRuleId;
      continue;
    }
    const hint = closest(call.tool, pack.knownTools);
    const base = `tool \`${call.tool}\` is not listed by pack \`${pack.id}\` (defaults: ${pack.defaults})`;
    // The tool is listed, but only by rules whose `when` does not hold in this context.
    const more =
      hint === call.tool
        ? "; the rules listing it do not apply in this context"
        : hint
          ? `; did you mean \`${hint}\`?`
          : "";
    violations.push({
      rule_id: pack.defaultsRuleId,
      path: "/tool",
      message: `${base}${more}`,
      reason_code: pack.defaults === "deny" ? "tool_not_allowed" : "default_warn",
      effect: pack.defaults,
      severity: null,
    });
  }
  return finish(
    policy,
    violations,
    allowedBy?.id ?? defaultAllowId,
    allowedBy ? "allowed" : "default_allow",
    call,
  );
}

// Tool names no pattern spells out exactly get their candidate list computed on first sight.
// A memo beside the frozen IR, bounded so that a stream of invented names cannot grow it forever.
const MAX_MEMO_TOOLS = 4096;
const candidateMemo = new WeakMap<CompiledPolicy, Map<string, readonly CompiledRule[]>>();

const foldMemo = new Map<string, readonly string[]>();
function foldedName(tool: string): readonly string[] {
  let f = foldMemo.get(tool);
  if (f === undefined) {
    f = foldedSpellings(tool);
    if (foldMemo.size < MAX_MEMO_TOOLS) foldMemo.set(tool, f);
  }
  return f;
}

function candidatesFor(policy: CompiledPolicy, tool: string): readonly CompiledRule[] {
  const known = policy.byTool.get(tool);
  if (known) return known;
  let memo = candidateMemo.get(policy);
  if (!memo) {
    memo = new Map();
    candidateMemo.set(policy, memo);
  }
  let list = memo.get(tool);
  if (!list) {
    const folded = foldedName(tool);
    list = policy.otherTools.filter((r) => ruleConsultedFor(r, tool, folded));
    if (memo.size < MAX_MEMO_TOOLS) memo.set(tool, list);
  }
  return list;
}

const plannedMemo = new WeakMap<ResolvedPlan, Map<string, readonly CompiledRule[]>>();

/** The tool's candidate rules that the plan keeps active, in plan order. */
function plannedCandidates(
  policy: CompiledPolicy,
  plan: ResolvedPlan,
  tool: string,
): readonly CompiledRule[] {
  let memo = plannedMemo.get(plan);
  if (!memo) {
    memo = new Map();
    plannedMemo.set(plan, memo);
  }
  let list = memo.get(tool);
  if (!list) {
    const position = plan.position;
    list = candidatesFor(policy, tool)
      .filter((r) => position.has(r))
      .sort((a, b) => (position.get(a) as number) - (position.get(b) as number));
    if (memo.size < MAX_MEMO_TOOLS) memo.set(tool, list);
  }
  return list;
}

/** Stable sort of `violations` by the policy index of the rule each came from (`owners`, parallel). */
function restorePolicyOrder(violations: Violation[], owners: readonly number[]): void {
  let sorted = true;
  for (let i = 1; i < owners.length && sorted; i++)
    sorted = (owners[i - 1] as number) <= (owners[i] as number);
  if (sorted) return;
  const keyed = violations.map((v, i) => ({ v, owner: owners[i] as number, i }));
  keyed.sort((a, b) => a.owner - b.owner || a.i - b.i);
  for (const [i, k] of keyed.entries()) violations[i] = k.v;
}

/**
 * Values by key for one decision: the first in fields, since most policies meet at most one
 * condition and one destination scan per call, and a Map (which costs more to make than the rest
 * of a decision allocates) only from the second on.
 */
class FirstThenMap<K, V> {
  private firstKey: K | undefined;
  private firstValue: V | undefined;
  private rest: Map<K, V> | undefined;

  get(key: K): V | undefined {
    return this.firstValue !== undefined && this.firstKey === key ? this.firstValue : this.rest?.get(key);
  }

  set(key: K, value: V): void {
    if (this.firstValue === undefined) {
      this.firstKey = key;
      this.firstValue = value;
    } else {
      this.rest ??= new Map();
      this.rest.set(key, value);
    }
  }
}

/** The lazily computed, per-decision work rules share: one object, no closures. */
class Scratch implements DecisionScratch {
  private cel: Record<string, unknown> | undefined;
  private folded: readonly string[] | undefined;
  private found: FirstThenMap<unknown, FoundTargets> | undefined;
  private when: FirstThenMap<CelProgram, boolean> | undefined;

  constructor(
    private readonly policy: CompiledPolicy,
    private readonly call: ToolCall,
    private readonly context: DecisionContext,
  ) {}

  bindings(): Record<string, unknown> {
    this.cel ??= this.policy.celBindings(this.call.tool, this.call.arguments, this.context);
    return this.cel;
  }

  foldedTool(): readonly string[] {
    this.folded ??= foldedName(this.call.tool);
    return this.folded;
  }

  targets(network: NetworkIR): FoundTargets {
    this.found ??= new FirstThenMap();
    let found = this.found.get(network.paths);
    if (!found) {
      found = findTargets(network, this.call.arguments);
      this.found.set(network.paths, found);
    }
    return found;
  }

  /** Do all of the rule's conditions hold? Each condition runs at most once per decision. */
  whenHolds(rule: CompiledRule): boolean {
    this.when ??= new FirstThenMap();
    const programs = rule.when;
    for (let i = 0; i < programs.length; i++) {
      const program = programs[i] as CelProgram;
      let holds = this.when.get(program);
      if (holds === undefined) {
        const result = program.run(this.bindings());
        if (typeof result !== "boolean")
          throw new Error(`condition \`${program.source}\` gave ${typeof result}, not a bool`);
        holds = result;
        this.when.set(program, holds);
      }
      if (!holds) return false;
    }
    return true;
  }
}

function finish(
  policy: CompiledPolicy,
  violations: Violation[],
  allowRuleId: string | undefined,
  allowReason: ReasonCode = "allowed",
  call?: ToolCall,
): Decision {
  let deciding: Violation | undefined;
  for (let i = 0; i < violations.length; i++) {
    const v = violations[i] as Violation;
    if (v.effect === "deny") {
      deciding = v;
      break;
    }
    if (v.effect === "warn") deciding ??= v;
  }
  if (deciding) {
    const rule = deciding.rule_id === null ? undefined : policy.ruleById.get(deciding.rule_id);
    return {
      effect: deciding.effect,
      rule_id: deciding.rule_id,
      reason_code: deciding.reason_code,
      // An evaluation error says what failed; the rule's own advice would mislead.
      message:
        deciding.reason_code === "evaluation_error" ? deciding.message : (rule?.message ?? deciding.message),
      violations,
      policy_digest: policy.digest,
    };
  }
  return {
    effect: "allow",
    rule_id: allowRuleId ?? null,
    reason_code: allowReason,
    message: call ? allowedMessage(call.tool) : "allowed",
    violations,
    policy_digest: policy.digest,
  };
}

// The same text for every allowed call of a tool, not a new one each time: a record compares it
// with the last one's, which for a string built anew means flattening and comparing it.
const allowedMessages = new Map<string, string>();
function allowedMessage(tool: string): string {
  let m = allowedMessages.get(tool);
  if (m === undefined) {
    m = `tool \`${tool}\` is allowed`;
    if (allowedMessages.size < MAX_MEMO_TOOLS) allowedMessages.set(tool, m);
  }
  return m;
}

function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split("\n")[0] ?? "unknown error";
}
