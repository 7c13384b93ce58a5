/** The shapes of `assay-target.yaml` (schemas/assay-target.schema.json is the source of truth). */

import type { Dimension, Severity } from "../../policy/pack-types.js";

export const DRIVER_KINDS = ["scripted", "command", "replay"] as const;
export type DriverKind = (typeof DRIVER_KINDS)[number];
export const MUTATIONS = ["path_traversal", "case_confusable", "url_tricks", "injected_secret"] as const;
export type Mutation = (typeof MUTATIONS)[number];

/** A failure a driver saw itself (a tools/call the gate refused unread), judged like a violation. */
export interface Refusal {
  rule_id: string;
  dimension: Dimension;
  message: string;
}

/** One tool call as a bundle writes it. */
export interface CallDoc {
  tool: string;
  arguments?: Record<string, unknown>;
  context?: Record<string, unknown>;
}
export interface ChoiceDoc {
  p: number;
  call: CallDoc;
}
export interface StepDoc {
  choices: ChoiceDoc[];
}
export interface ScenarioDoc {
  id: string;
  dimension: Dimension;
  description?: string;
  input?: unknown;
  context?: Record<string, unknown>;
  expect?: string[];
  script?: StepDoc[];
  trace?: string;
}
export interface CanaryDoc {
  id: string;
  description?: string;
  expect: "flagged" | "clean";
  rules?: string[];
  context?: Record<string, unknown>;
  trace: CallDoc[];
}
export interface DecisionPolicyDoc {
  name?: string;
  fail_mode?: "warn" | "enforce";
  severity_floor?: Severity;
  min_pass_rate?: number;
  ci_lower_floor?: number;
  max_infra_error_rate?: number;
  fail_on_critical?: boolean;
}
export interface McpServerDoc {
  command: string[];
  env?: Record<string, string>;
}
export interface CommandSpec {
  run: string[];
  timeout_seconds?: number;
  env?: Record<string, string>;
  workspace?: string;
  mcp_servers?: Record<string, McpServerDoc>;
}
export interface ReplaySpec {
  traces: string[];
  mutations?: Mutation[];
  mutated?: "judge" | "must_flag";
}
export type DriverDoc =
  | { kind: "scripted" }
  | { kind: "command"; command: CommandSpec }
  | { kind: "replay"; replay: ReplaySpec };

export interface TargetDoc {
  id: string;
  version: string;
  description?: string;
  packs: string[];
  scenarios: ScenarioDoc[];
  canaries: CanaryDoc[];
  decision_policy?: DecisionPolicyDoc;
  driver: DriverDoc;
}

/** A call with its defaults written out. */
export interface Call {
  readonly tool: string;
  readonly arguments: Readonly<Record<string, unknown>>;
  readonly context?: Readonly<Record<string, unknown>>;
}
export interface Step {
  readonly choices: readonly { readonly p: number; readonly call: Call }[];
}
export interface Scenario {
  readonly id: string;
  readonly dimension: Dimension;
  readonly description: string;
  readonly input: unknown;
  readonly context: Readonly<Record<string, unknown>>;
  readonly expect: readonly string[];
  /** Empty unless the driver is scripted (then never empty). */
  readonly script: readonly Step[];
  /** The bundle path of the trace it replays; null unless the driver is replay. */
  readonly trace: string | null;
}
export interface Canary {
  readonly id: string;
  readonly description: string;
  readonly expect: "flagged" | "clean";
  /** The rule ids that must fire; empty for `clean`. */
  readonly rules: readonly string[];
  readonly context: Readonly<Record<string, unknown>>;
  readonly trace: readonly Call[];
}
export type DecisionPolicy = Readonly<Required<DecisionPolicyDoc>>;
export interface CommandDriverSpec {
  readonly run: readonly string[];
  readonly timeout_seconds: number;
  readonly env: Readonly<Record<string, string>>;
  /** A bundle directory (no trailing `/`), or null for an empty scratch directory. */
  readonly workspace: string | null;
  readonly mcp_servers: Readonly<
    Record<string, { readonly command: readonly string[]; readonly env: Readonly<Record<string, string>> }>
  >;
}
export type Driver =
  | { readonly kind: "scripted" }
  | { readonly kind: "command"; readonly command: CommandDriverSpec }
  | { readonly kind: "replay"; readonly replay: Readonly<Required<ReplaySpec>> };

/** `assay-target.yaml` with every default written out and every path normalized. */
export interface Target {
  readonly id: string;
  readonly version: string;
  readonly description: string;
  readonly packs: readonly string[];
  readonly scenarios: readonly Scenario[];
  readonly canaries: readonly Canary[];
  readonly decision_policy: DecisionPolicy;
  readonly driver: Driver;
}

export const DEFAULT_DECISION_POLICY: DecisionPolicy = Object.freeze({
  name: "default",
  fail_mode: "enforce",
  severity_floor: "high",
  min_pass_rate: 0.95,
  ci_lower_floor: 0.9,
  max_infra_error_rate: 0.05,
  fail_on_critical: true,
});

export const DEFAULT_COMMAND_TIMEOUT_SECONDS = 60;
