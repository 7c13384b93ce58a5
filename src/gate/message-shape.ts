import type { JsonRpcId } from "../records/decision-event.js";
import { disguisedToolCall } from "./call-facts.js";
import { ExactNumber, type ExactSource, type LossyNumber, lossyNumber } from "./exact-json.js";
import { classify } from "./jsonrpc.js";
import { ambiguousKey, ambiguousKeyDeep, PROTO } from "./key-folding.js";

// What the gate checks in a message's shape before (or instead of) deciding it.

/**
 * Client messages nested deeper than this are refused before anything is decided: no MCP
 * message comes near it, and far deeper ones (20,000 levels) parse but cannot be re-encoded.
 */
export const MAX_MESSAGE_DEPTH = 512;

/** The members of a JSON-RPC message; a key that only differs from one of them in case is refused. */
export const ENVELOPE_KEYS = ["jsonrpc", "id", "method", "params", "result", "error"] as const;
/** The members of a tool list result and of a listed tool that clients read. */
export const LIST_RESULT_KEYS = ["tools", "nextCursor", "_meta"] as const;
export const TOOL_KEYS = [
  "name",
  "title",
  "description",
  "inputSchema",
  "outputSchema",
  "annotations",
  "icons",
  "_meta",
] as const;
/** The members of `tools/call` params a server reads. */
const CALL_PARAM_KEYS = ["name", "arguments", "_meta"] as const;

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Why a client message's own keys are ambiguous to a case-insensitive decoder, if they are. */
export function envelopeAmbiguity(msg: unknown): string | undefined {
  if (!isRecord(msg)) return undefined;
  const bad = ambiguousKey(msg, ENVELOPE_KEYS);
  return bad === undefined
    ? undefined
    : `key \`${bad}\` is refused: ${bad === PROTO ? PROTO_READING : "a server that matches keys ignoring case could read it as another member"}`;
}

/** Why a `__proto__` key is refused (see key-folding.ts). */
const PROTO_READING =
  "a JavaScript server that copies objects by assignment would take what it holds for the object's own members";

/** Keys of a call's params (and anything inside them) that a case-insensitive server could read otherwise. */
export function callAmbiguity(params: unknown): { path: string; message: string } | undefined {
  if (!isRecord(params)) return undefined;
  const path = ambiguousKeyDeep(params, CALL_PARAM_KEYS);
  if (path === undefined) return undefined;
  const reading = path.endsWith(`/${PROTO}`)
    ? PROTO_READING
    : "a server that matches keys ignoring case could read it as another key than the policy did";
  return { path: `/params${path}`, message: `key at \`/params${path}\` is refused: ${reading}` };
}

/** Whether a server message's own keys, or its result's, could be read otherwise by a client (case, `__proto__`). */
export function serverAmbiguity(msg: unknown): boolean {
  if (!isRecord(msg)) return false;
  if (ambiguousKey(msg, ENVELOPE_KEYS) !== undefined) return true;
  const result = msg.result;
  return isRecord(result) && ambiguousKey(result, LIST_RESULT_KEYS) !== undefined;
}

/** The ids of a batch's requests, as written (read from its exact twin). */
export function batchIds(exact: ExactSource): (JsonRpcId | ExactNumber)[] {
  const out: (JsonRpcId | ExactNumber)[] = [];
  for (const m of exact.twin as unknown[]) {
    if (!isRecord(m) || typeof m.method !== "string" || !("id" in m)) continue;
    const id = m.id;
    if (id instanceof ExactNumber || typeof id === "string" || typeof id === "number") out.push(id);
  }
  return out;
}

/** How deep objects and arrays nest in `msg` (0 for a scalar); stops counting past MAX_MESSAGE_DEPTH. */
export function nestingDepth(msg: unknown): number {
  if (msg === null || typeof msg !== "object") return 0;
  let max = 0;
  const stack: [object, number][] = [[msg, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [object, number];
    if (d > max) max = d;
    if (max > MAX_MESSAGE_DEPTH) return max;
    for (const c of Array.isArray(v) ? v : Object.values(v))
      if (c !== null && typeof c === "object") stack.push([c, d + 1]);
  }
  return max;
}

/** The id of a request refused for its shape, when it has a usable one (a response is not answered). */
export function topLevelId(msg: unknown): JsonRpcId | undefined {
  if (!isRecord(msg) || typeof msg.method !== "string") return undefined;
  const id = msg.id;
  return typeof id === "string" || (typeof id === "number" && Number.isFinite(id)) ? id : undefined;
}

/** A number in a `tools/call`'s arguments whose value a double cannot hold (read from the exact twin). */
export function lossyArgument(twin: unknown): LossyNumber | undefined {
  if (!isRecord(twin) || twin.method !== "tools/call" || !isRecord(twin.params)) return undefined;
  const params = twin.params;
  return Object.hasOwn(params, "arguments") ? lossyNumber(params.arguments, "/arguments") : undefined;
}

/**
 * Why a client batch is refused whole, if it is: a member carrying a tool call (or spelled like
 * one), or a member the gate would refuse on its own (invalid, nested, ambiguous keys).
 */
export function batchRefusal(
  items: readonly unknown[],
): { reason: "batch_with_tool_call" | "invalid_message"; message: string } | undefined {
  let refused: "batch_with_tool_call" | "invalid_message" | undefined;
  for (const i of items) {
    const k = classify(i);
    if (k.kind === "batch" || k.kind === "invalid" || envelopeAmbiguity(i) !== undefined)
      refused ??= "invalid_message";
    else if (
      (k.kind === "request" || k.kind === "notification") &&
      (k.method === "tools/call" || disguisedToolCall(k.method))
    )
      refused = "batch_with_tool_call";
  }
  if (refused === undefined) return undefined;
  const message =
    refused === "batch_with_tool_call"
      ? "a JSON-RPC batch carrying tools/call is not accepted by the gate; send calls one per message"
      : "a JSON-RPC batch with an invalid or nested member is not accepted by the gate";
  return { reason: refused, message };
}

/** The ids of a batch's requests. */
export function requestIds(items: readonly unknown[]): JsonRpcId[] {
  const out: JsonRpcId[] = [];
  for (const i of items) {
    const k = classify(i);
    if (k.kind === "request") out.push(k.id);
  }
  return out;
}
