import type { Effect, Severity } from "./pack-types.js";

/** Why a decision came out as it did. Stable: documented in docs/reason-codes.md and pinned by tests. */
export const REASON_CODES = [
  "allowed",
  "default_allow",
  "default_warn",
  "tool_not_allowed",
  "tool_denied",
  "args_invalid",
  "expr_failed",
  "network_denied",
  "limit_exceeded",
  "sequence_violation",
  "evaluation_error",
  "call_invalid",
  "call_too_large",
  "context_invalid",
  "tool_drift",
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

/** One thing a rule found wrong with a call (or a trace). */
export interface Violation {
  rule_id: string | null;
  /** JSON pointer into the call (`/tool`, `/arguments/path`) or, for a trace, into the trace. */
  path: string;
  message: string;
  reason_code: ReasonCode;
  effect: "deny" | "warn";
  severity: Severity | null;
}

/** The answer for one tool call. A deny is a value, never an exception. */
export interface Decision {
  effect: Effect;
  /** The rule that decided: the first denying rule, else the first warning one, else the one that allowed. */
  rule_id: string | null;
  reason_code: ReasonCode;
  message: string;
  violations: Violation[];
  policy_digest: string;
}

/** A violation found while checking a whole trace; `call_index` is null for trace-level findings. */
export interface TraceViolation extends Violation {
  call_index: number | null;
}
