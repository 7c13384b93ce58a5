import type { Decision } from "../policy/decision.js";

/** A JSON-RPC request id, as MCP uses them (never null on a request). */
export type JsonRpcId = string | number;

export const DECISION_EVENT_TYPE = "assay.tool.decision";
export const FRAME_REJECTED_EVENT_TYPE = "assay.gate.frame_rejected";
export const GATE_STARTED_EVENT_TYPE = "assay.gate.started";

/** What the gate did with a tools/call. */
export type GateOutcome = "forwarded" | "denied" | "would_deny";

export interface DecisionEventData extends Decision {
  tool: string | null;
  tool_call_id: string;
  request_id: JsonRpcId | null;
  session_id: string;
  outcome: GateOutcome;
  dry_run: boolean;
  /** Time spent deciding, in microseconds (a measurement, not part of determinism). */
  latency_us: number;
  /** `sha256:` of the canonical JSON of the arguments; the arguments themselves only on request. */
  arguments_digest: string | null;
  arguments?: unknown;
  traceparent?: string;
}

export interface FrameRejectedData {
  request_id: JsonRpcId | null;
  session_id: string;
  reason: "unparsable" | "undecodable" | "oversize" | "invalid_message" | "batch_with_tool_call";
  message: string;
  bytes: number;
}

/** A stdio gate started its server: the first record of its session. */
export interface GateStartedData {
  session_id: string;
  policy_digest: string;
  /** The server command, argv. */
  server: string[];
  dry_run: boolean;
}

/** A CloudEvents 1.0 record, one line of the decision log. */
export interface GateEvent<T extends string = string, D = unknown> {
  specversion: "1.0";
  id: string;
  source: string;
  type: T;
  time: string;
  datacontenttype: "application/json";
  subject?: string;
  data: D;
}

export type DecisionEvent = GateEvent<typeof DECISION_EVENT_TYPE, DecisionEventData>;
export type FrameRejectedEvent = GateEvent<typeof FRAME_REJECTED_EVENT_TYPE, FrameRejectedData>;
export type GateStartedEvent = GateEvent<typeof GATE_STARTED_EVENT_TYPE, GateStartedData>;
export type AnyGateEvent = DecisionEvent | FrameRejectedEvent | GateStartedEvent;
