import type { CelProgram } from "../policy/cel.js";
import type { CompiledPolicy, CompiledRule } from "../policy/ir.js";
import { contextOnly, planningContext } from "../policy/rule-plan.js";

/** The selectors: `basic` uses the packs' costs, `weighted` overrides them from a weights map. */
export const SELECTORS = ["basic", "weighted"] as const;
export type SelectorName = (typeof SELECTORS)[number];

/** Rule costs by rule id (as decisions report it); non-negative integers (see weights.ts). */
export type Weights = ReadonlyMap<string, number>;

/** The reason given for a rule with no `when`. */
export const ALWAYS = "always";

/** What a selector decided: the active rules (policy order) and why each rule is in or out. */
export interface SelectedRules {
  readonly active: readonly string[];
  /** Cost of each active rule. */
  readonly cost: ReadonlyMap<string, number>;
  /** Active rule -> the `when` entries that made it so (see whenReasons). */
  readonly reason: ReadonlyMap<string, readonly string[]>;
  /** Skipped rule -> its context-only `when` entries that were false. */
  readonly skipped: ReadonlyMap<string, readonly string[]>;
}

/**
 * Select the rules that apply in `context`. A pure function of (policy, context, weights): no
 * clock, no randomness, rules visited in policy order.
 *
 * A rule is skipped only when deciding any call in this context would skip it too: its `when`
 * entries are checked in order, as decide() checks them, and the rule is skipped at the first
 * entry that reads only the context and is false, provided every entry before it also reads only
 * the context and was true. An entry that reads the call (`tool`, `args`) or may read
 * `context.history` stops the walk (an earlier error per call would deny), as does an entry that
 * fails or gives a non-bool on the context (fail closed: the rule stays active and each decision
 * evaluates it as without a plan).
 */
export function selectRules(
  policy: CompiledPolicy,
  context: Record<string, unknown>,
  weights?: Weights,
): SelectedRules {
  const bindings = policy.celBindings("", {}, planningContext(context));
  const shape = shapeOf(policy);
  // Each distinct program runs at most once per selection (predicates are shared by many rules).
  const memo: (boolean | "error" | undefined)[] = new Array(shape.programs.length);
  const run = (slot: number): boolean | "error" => {
    let v = memo[slot];
    if (v === undefined) {
      try {
        const out = (shape.programs[slot] as CelProgram).run(bindings);
        v = typeof out === "boolean" ? out : "error";
      } catch {
        v = "error";
      }
      memo[slot] = v;
    }
    return v;
  };
  const test = (program: CelProgram): boolean | "error" => run(shape.slots.get(program) as number);
  const active: string[] = [];
  const cost = new Map<string, number>();
  const reason = new Map<string, readonly string[]>();
  const skipped = new Map<string, readonly string[]>();
  for (const rs of shape.rules) {
    const rule = rs.rule;
    const out = rs.simple ? judgeSimple(rs, run, test) : judge(rule, test);
    if (out.skip) {
      skipped.set(rule.id, out.names);
      continue;
    }
    active.push(rule.id);
    cost.set(rule.id, weights?.get(rule.id) ?? rule.cost);
    reason.set(rule.id, out.names);
  }
  return { active, cost, reason, skipped };
}

/** What selection needs of a rule, worked out once per compiled policy. */
interface RuleShape {
  readonly rule: CompiledRule;
  /** Every `when` entry reads only the context: judgeSimple gives judge's answer without allocating. */
  readonly simple: boolean;
  /** Each `when` entry's program, as its slot in PolicyShape.programs. */
  readonly slots: readonly number[];
  /** The names of all entries (the reason when all hold), and each entry's name alone (when it is the first false one). */
  readonly allNames: readonly string[];
  readonly single: readonly (readonly string[])[];
}

interface PolicyShape {
  readonly rules: readonly RuleShape[];
  readonly programs: readonly CelProgram[];
  readonly slots: ReadonlyMap<CelProgram, number>;
}

// A compiled policy is immutable: its shape is computed once and kept as long as the policy lives.
const shapes = new WeakMap<CompiledPolicy, PolicyShape>();
const ALWAYS_NAMES: readonly string[] = Object.freeze([ALWAYS]);

function shapeOf(policy: CompiledPolicy): PolicyShape {
  let shape = shapes.get(policy);
  if (shape !== undefined) return shape;
  const slots = new Map<CelProgram, number>();
  const programs: CelProgram[] = [];
  const rules = policy.rules.map((rule): RuleShape => {
    const names = rule.when.map((p, k) => rule.whenNames[k] ?? p.source);
    for (const p of rule.when)
      if (!slots.has(p)) {
        slots.set(p, programs.length);
        programs.push(p);
      }
    return {
      rule,
      simple: rule.when.every(contextOnly),
      slots: rule.when.map((p) => slots.get(p) as number),
      allNames: Object.freeze(rule.when.length === 0 ? [ALWAYS] : names),
      single: names.map((n) => Object.freeze([n])),
    };
  });
  shape = { rules, programs, slots };
  shapes.set(policy, shape);
  return shape;
}

/**
 * judge() for a rule whose `when` entries all read only the context, without allocating: skipped
 * at the first false entry (named alone), active when all hold (all named), or, when one fails on
 * the context, judge()'s own answer.
 */
function judgeSimple(
  rs: RuleShape,
  run: (slot: number) => boolean | "error",
  test: (p: CelProgram) => boolean | "error",
): { skip: boolean; names: readonly string[] } {
  const slots = rs.slots;
  if (slots.length === 0) return { skip: false, names: ALWAYS_NAMES };
  for (let k = 0; k < slots.length; k++) {
    const v = run(slots[k] as number);
    if (v === "error") return judge(rs.rule, test);
    if (!v) {
      // Skipped: named by every false entry, as judge() names it (usually this one alone).
      let names = rs.single[k] as readonly string[];
      for (let j = k + 1; j < slots.length; j++)
        if (run(slots[j] as number) === false) names = [...names, rs.single[j]?.[0] as string];
      return { skip: true, names };
    }
  }
  return { skip: false, names: rs.allNames };
}

export { contextOnly };

/**
 * Whether to skip `rule`, and the names that explain it. For a skipped rule: its context-only
 * entries that are false. For an active one: its context-only entries that are true, `call:<entry>`
 * for each entry left to every decision, `error:<entry>` for each that failed on the context,
 * `false:<entry>` for a false one that a per-call entry before it keeps from deciding, or `always`
 * when it has no `when`. Entries are named as the pack spells them: a predicate id, or the
 * inline CEL source (never a bare identifier, so the two cannot be confused).
 */
function judge(
  rule: CompiledRule,
  test: (p: CelProgram) => boolean | "error",
): { skip: boolean; names: string[] } {
  if (rule.when.length === 0) return { skip: false, names: [ALWAYS] };
  let skip = false;
  let decided = true; // every entry so far read only the context and held
  const truths: string[] = [];
  const falses: string[] = [];
  const rest: string[] = [];
  for (const [k, program] of rule.when.entries()) {
    const name = rule.whenNames[k] ?? program.source;
    if (!contextOnly(program)) {
      rest.push(`call:${name}`);
      decided = false;
      continue;
    }
    const v = test(program);
    if (v === "error") {
      rest.push(`error:${name}`);
      decided = false;
    } else if (v) truths.push(name);
    else {
      falses.push(name);
      if (decided) skip = true;
      else rest.push(`false:${name}`);
      decided = false;
    }
  }
  return skip ? { skip, names: falses } : { skip, names: [...truths, ...rest] };
}
