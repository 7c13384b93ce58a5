import type { Clock } from "../lib/clock.js";
import type { DecisionContext } from "../policy/decide.js";
import type { CompiledPolicy } from "../policy/ir.js";
import type { RulePlan } from "../policy/rule-plan.js";
import type { DecisionSink } from "./decision-log.js";
import type { DenyMode } from "./deny-reply.js";
import type { PinSet, PinsDoc } from "./pins.js";

/** What a gate is given: the policy, where records go, and how it answers and filters. */
export interface GateOptions {
  policy: CompiledPolicy;
  /** Where decision records go; none means decisions are made but not recorded. */
  sink?: DecisionSink;
  /** How a denied call is answered: a tool result with isError (default) or a JSON-RPC error. */
  denyMode?: DenyMode;
  /** Decide and record `would_deny`, but forward every call. */
  dryRun?: boolean;
  /** Remove tools the policy denies outright from `tools/list` results (default true). */
  filterTools?: boolean;
  /** Tool pins; drifted tools are denied with `tool_drift`. */
  pins?: PinSet;
  /**
   * Called when a `tools/list` pinned tools not seen before (or completed a version 1 pin), with
   * every pin: to save them (`pinsSaver`). The listing goes on once it resolves.
   */
  onPinsAdded?: (doc: PinsDoc) => Promise<void>;
  /** Names the gate in records (`source`). */
  label?: string;
  /** What `context` holds for every decision of this gate (e.g. `{env: "prod"}`). */
  context?: DecisionContext;
  /**
   * A plan for `context` (src/adapt): decisions evaluate only its active rules, with the same
   * verdicts. Built once per gate, since the gate's context is fixed.
   */
  plan?: RulePlan;
  sessionId?: string;
  /** Put the call's arguments in decision records (default: only their digest). */
  logArguments?: boolean;
  clock?: Clock;
}
