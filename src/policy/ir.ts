import type { ValidateFunction } from "ajv";
import type { CelProgram } from "./cel.js";
import type { NetworkIR } from "./network-ir.js";
import type { Dimension, Effect, JsonStrings, Mapping, Severity } from "./pack-types.js";
import type { ToolPattern } from "./tool-pattern.js";

/** What every compiled rule carries, whatever its kind. */
export interface RuleBase {
  /** Position in the policy: packs in the order given, rules in pack order. */
  readonly index: number;
  /** The id decisions report: the rule's own id, or `pack/rule` when another pack uses the same id. */
  readonly id: string;
  readonly qualifiedId: string;
  readonly packIndex: number;
  readonly packId: string;
  readonly dimension: Dimension;
  readonly severity: Severity;
  readonly effect: "deny" | "warn";
  readonly message: string | undefined;
  readonly cost: number;
  readonly mappings: readonly Mapping[];
  /** All must hold for the rule to apply. */
  readonly when: readonly CelProgram[];
  /** Each `when` entry as the pack spells it (a predicate id, or inline CEL), parallel to `when`. */
  readonly whenNames: readonly string[];
  /** The tools a decision consults this rule for; null = every tool. */
  readonly scope: readonly ToolPattern[] | null;
}

export interface ToolsRule extends RuleBase {
  readonly kind: "tools";
  readonly allow: readonly ToolPattern[];
  readonly deny: readonly ToolPattern[];
  /** The deny patterns in folded spelling (see foldToolName), matched against the folded tool name. */
  readonly denyFolded: readonly ToolPattern[];
}
export interface ArgsRule extends RuleBase {
  readonly kind: "args";
  readonly validate: ValidateFunction;
  /** Which form of the arguments `validate` judges (see JsonStrings). */
  readonly jsonStrings: JsonStrings;
}
export interface ExprRule extends RuleBase {
  readonly kind: "expr";
  readonly program: CelProgram;
}
export interface NetworkRule extends RuleBase {
  readonly kind: "network";
  readonly network: NetworkIR;
}

/** Sequence checks; `slot` indexes the session counter the check reads. */
export type SequenceIR =
  | { readonly op: "require"; readonly tool: ToolPattern }
  | { readonly op: "before"; readonly first: ToolPattern; readonly next: ToolPattern; readonly slot: number }
  | {
      readonly op: "never_after";
      readonly trigger: ToolPattern;
      readonly forbidden: ToolPattern;
      readonly slot: number;
    }
  | { readonly op: "max_calls"; readonly tool: ToolPattern; readonly max: number; readonly slot: number }
  | { readonly op: "eventually"; readonly tool: ToolPattern; readonly within: number | null }
  | {
      readonly op: "after";
      readonly trigger: ToolPattern;
      readonly next: ToolPattern;
      readonly within: number;
    };

export interface SequenceRule extends RuleBase {
  readonly kind: "sequence";
  readonly sequence: SequenceIR;
  /** Whether a single decision can see a violation (before, never_after, max_calls) or only a whole trace can. */
  readonly online: boolean;
}
export interface LimitRule extends RuleBase {
  readonly kind: "limit";
  readonly maxCalls: number | null;
  readonly perTool: readonly { readonly pattern: ToolPattern; readonly max: number; readonly slot: number }[];
}

export type CompiledRule = ToolsRule | ArgsRule | ExprRule | NetworkRule | SequenceRule | LimitRule;

/** A session counter: how many recorded calls matched `pattern`. */
export interface Counter {
  readonly slot: number;
  readonly pattern: ToolPattern;
}

export interface CompiledPack {
  readonly index: number;
  readonly id: string;
  readonly version: string;
  readonly defaults: Effect;
  /** The id decisions report when this pack's defaults decide. */
  readonly defaultsRuleId: string;
  /** Exact tool names this pack allows, for "did you mean" hints. */
  readonly knownTools: readonly string[];
}

/** Bounds on a call's arguments, checked before any rule runs. */
export interface CallLimits {
  readonly maxDepth: number;
  readonly maxStringLength: number;
  readonly maxTotalBytes: number;
}

/** The immutable result of compiling one or more packs. Deciding reads it and nothing else. */
export interface CompiledPolicy {
  readonly digest: string;
  readonly packs: readonly CompiledPack[];
  readonly rules: readonly CompiledRule[];
  /** Rules by the id decisions report. */
  readonly ruleById: ReadonlyMap<string, CompiledRule>;
  /** Candidate rules for every tool name some pattern spells out exactly. */
  readonly byTool: ReadonlyMap<string, readonly CompiledRule[]>;
  /** Every rule a decision may consult; filtered (and memoized) per tool name not in byTool. */
  readonly otherTools: readonly CompiledRule[];
  readonly offlineRules: readonly SequenceRule[];
  readonly counters: readonly Counter[];
  readonly limits: CallLimits;
  /** Builds the CEL variables of one decision (once per decision, only if a CEL program runs). */
  readonly celBindings: (
    tool: string,
    args: Record<string, unknown>,
    context: Record<string, unknown>,
  ) => Record<string, unknown>;
}
