import type { Decision } from "../policy/decision.js";
import type { AnyGateEvent, FrameRejectedData, JsonRpcId } from "../records/decision-event.js";
import { denyText } from "./call-facts.js";
import type { ExactNumber } from "./exact-json.js";
import { errorText, type GateStep, type StagedStep } from "./gate-step.js";
import { errorResponse, RPC, resultResponse } from "./jsonrpc.js";

// How the gate answers for the server: a denied call, a call it could not record, a refused frame.

export type DenyMode = "result" | "error";

/** Where a denied result carries the decision for clients that read `_meta`. */
export const DECISION_META_KEY = "dev.assay/decision";

/**
 * The answer to a denied call. `structured`: whether the result may carry the decision as
 * `structuredContent` (not for a tool that declared an outputSchema: clients validate
 * structuredContent against it, the SDK even on errors).
 */
export function denyReply(
  mode: DenyMode | undefined,
  id: JsonRpcId,
  tool: string | null,
  d: Decision,
  structured: boolean,
): unknown {
  const toolLevel = d.reason_code === "tool_not_allowed" || d.reason_code === "tool_denied";
  if (mode === "error") {
    // A tool the allowlist does not admit looks exactly like a tool the server does not have,
    // as the official TypeScript SDK's McpServer answers one (a tool result, not an error).
    if (toolLevel) return resultResponse(id, unknownToolResult(tool));
    return errorResponse(id, RPC.policyDenied, denyText(d), d);
  }
  const result: Record<string, unknown> = {
    content: [{ type: "text", text: denyText(d) }],
    isError: true,
    _meta: { [DECISION_META_KEY]: d },
  };
  if (structured) result.structuredContent = d;
  return resultResponse(id, result);
}

/** A call that could not be recorded is not forwarded (fail closed). */
export function unrecordedStep(id: JsonRpcId, err: unknown): GateStep {
  return {
    forward: false,
    why: "unrecorded",
    reply: errorResponse(
      id,
      RPC.internalError,
      `assay gate: the decision could not be recorded: ${errorText(err)}`,
    ),
  };
}

/**
 * What the official TypeScript SDK's `McpServer` (1.x; server-everything and server-filesystem
 * use it) answers for a tool it does not have: the McpError it throws (-32602, "Tool <name> not
 * found"), caught and returned as a tool result with `isError`.
 */
export function unknownToolResult(tool: string | null): {
  content: { type: "text"; text: string }[];
  isError: true;
} {
  return {
    content: [{ type: "text", text: `MCP error ${RPC.invalidParams}: Tool ${tool} not found` }],
    isError: true,
  };
}

/**
 * A refused frame: an error to its id when it has one (a parse error for a frame that could not
 * be read, an invalid request otherwise). The frame is refused either way; a record that could
 * not be stored is only mentioned.
 */
export function refusal(
  reason: FrameRejectedData["reason"],
  id: JsonRpcId | ExactNumber | undefined,
  message: string,
  records: AnyGateEvent[],
): StagedStep {
  const code = reason === "unparsable" || reason === "undecodable" ? RPC.parseError : RPC.invalidRequest;
  const step = (note: string): GateStep =>
    id === undefined
      ? { forward: false, why: "refused" }
      : { forward: false, why: "refused", reply: errorResponse(id, code, `assay gate: ${note}`) };
  return {
    step: step(message),
    records,
    unrecorded: (err) => step(`${message}; it could not be recorded: ${errorText(err)}`),
    refusal: { code, message },
  };
}

/** A refused batch: each of its requests gets an error (`refusal` answers one id at most). */
export function withReplies(
  staged: StagedStep,
  ids: readonly (JsonRpcId | ExactNumber)[],
  message: string,
): StagedStep {
  const replies = ids.map((id) => errorResponse(id, RPC.invalidRequest, `assay gate: ${message}`));
  const add = (step: GateStep): GateStep => ({ ...step, reply: replies.length > 0 ? replies : undefined });
  const out: StagedStep = {
    step: add(staged.step),
    records: staged.records,
    unrecorded: (err) => add(staged.unrecorded ? staged.unrecorded(err) : staged.step),
  };
  if (staged.refusal) out.refusal = staged.refusal;
  return out;
}
