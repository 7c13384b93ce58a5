/** The shapes of a policy pack as written (schemas/policy-pack.schema.json is the source of truth). */

export type Effect = "allow" | "warn" | "deny";
export type Dimension = "correctness" | "safety" | "security" | "control";
export type Severity = "info" | "low" | "medium" | "high" | "critical";
export const DIMENSIONS: readonly Dimension[] = ["correctness", "safety", "security", "control"];
export const SEVERITIES: readonly Severity[] = ["info", "low", "medium", "high", "critical"];
export const CHECK_KINDS = ["tools", "args", "expr", "network", "sequence", "limit"] as const;
export type CheckKind = (typeof CHECK_KINDS)[number];

export interface ToolsCheck {
  allow?: string[];
  deny?: string[];
}
/**
 * Which form of the arguments an `args` schema judges: as sent; as a server that re-parses
 * JSON-encoded strings (the MCP Python SDK's FastMCP) hands them to the tool; or both.
 */
export type JsonStrings = "as_sent" | "reparsed" | "both";
export interface ArgsCheck {
  tools: string[];
  schema: Record<string, unknown> | boolean;
  json_strings?: JsonStrings;
}
export interface ExprCheck {
  tools: string[];
  assert: string;
}
export interface NetworkCheck {
  tools?: string[];
  paths?: string[];
  allow_cidrs?: string[];
  deny_cidrs?: string[];
  allow_hosts?: string[];
  deny_hosts?: string[];
  allow_ports?: number[];
  deny_ports?: number[];
  allow_schemes?: string[];
}
export interface SequenceCheck {
  require?: { tool: string };
  before?: { first: string; then: string };
  never_after?: { trigger: string; forbidden: string };
  max_calls?: { tool: string; max: number };
  eventually?: { tool: string; within?: number };
  after?: { trigger: string; then: string; within: number };
}
export interface LimitCheck {
  max_calls?: number;
  per_tool?: Record<string, number>;
}
export interface Mapping {
  framework: string;
  ref: string;
}

export interface RuleDoc {
  id: string;
  dimension: Dimension;
  severity: Severity;
  effect?: "deny" | "warn";
  description?: string;
  message?: string;
  when?: string[];
  cost?: number;
  mappings?: Mapping[];
  tools?: ToolsCheck;
  args?: ArgsCheck;
  expr?: ExprCheck;
  network?: NetworkCheck;
  sequence?: SequenceCheck;
  limit?: LimitCheck;
}

export interface PackDoc {
  id: string;
  version: string;
  description?: string;
  defaults?: Effect;
  predicates?: Record<string, string>;
  rules: RuleDoc[];
}

/** The kind of check a rule carries (the schema guarantees exactly one). */
export function ruleKind(rule: RuleDoc): CheckKind {
  for (const kind of CHECK_KINDS) if (rule[kind] !== undefined) return kind;
  throw new Error(`rule \`${rule.id}\` has no check kind`);
}
