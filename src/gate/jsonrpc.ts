import type { JsonRpcId } from "../records/decision-event.js";
/** JSON-RPC 2.0 as MCP uses it: just enough to route messages without changing them. */
import { ExactNumber } from "./exact-json.js";

/** JSON text without a leading byte-order mark, which clients' parsers drop before parsing. */
export function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

export interface JsonRpcRequest {
  jsonrpc: "2.0";
  id: JsonRpcId;
  method: string;
  params?: unknown;
}

/** What one message is, read without trusting it. */
export type MessageKind =
  | { kind: "request"; id: JsonRpcId; method: string; params: unknown }
  | { kind: "notification"; method: string; params: unknown }
  | { kind: "response"; id: JsonRpcId | null }
  | { kind: "batch" }
  | { kind: "invalid"; id: JsonRpcId | undefined; reason: string };

/** JSON-RPC error codes the gate answers with. */
export const RPC = {
  parseError: -32700,
  invalidRequest: -32600,
  invalidParams: -32602,
  internalError: -32603,
  /** Implementation-defined server error range: a call the policy denied. */
  policyDenied: -32001,
  /** The MCP server went away before it answered. */
  serverGone: -32002,
} as const;

function isId(v: unknown): v is JsonRpcId {
  return typeof v === "string" || (typeof v === "number" && Number.isFinite(v));
}

export function classify(msg: unknown): MessageKind {
  if (Array.isArray(msg)) return { kind: "batch" };
  if (msg === null || typeof msg !== "object") {
    return { kind: "invalid", id: undefined, reason: "a JSON-RPC message must be an object" };
  }
  const m = msg as Record<string, unknown>;
  const id = isId(m.id) ? m.id : undefined;
  if (m.jsonrpc !== "2.0") return { kind: "invalid", id, reason: '`jsonrpc` must be "2.0"' };
  if ("method" in m) {
    if (typeof m.method !== "string") return { kind: "invalid", id, reason: "`method` must be a string" };
    if (!("id" in m)) return { kind: "notification", method: m.method, params: m.params };
    if (id === undefined) return { kind: "invalid", id, reason: "`id` must be a string or a number" };
    return { kind: "request", id, method: m.method, params: m.params };
  }
  if ("result" in m || "error" in m) {
    if (id === undefined && m.id !== null) {
      return { kind: "invalid", id, reason: "`id` must be a string, a number or null" };
    }
    return { kind: "response", id: id ?? null };
  }
  return { kind: "invalid", id, reason: "neither a request, a notification nor a response" };
}

/** An error answer; an ExactNumber id (refused for not being exact) is answered as written (encodeJson). */
export function errorResponse(
  id: JsonRpcId | ExactNumber | null,
  code: number,
  message: string,
  data?: unknown,
) {
  return {
    jsonrpc: "2.0" as const,
    id,
    error: data === undefined ? { code, message } : { code, message, data },
  };
}

export function resultResponse(id: JsonRpcId, result: unknown) {
  return { jsonrpc: "2.0" as const, id, result };
}

/**
 * The top-level `id` of a frame too large (or too broken) to parse, read from its first bytes
 * without parsing them: only a key at depth 1, outside strings, counts. Undefined when unsure. A
 * number that would not read back as written is an ExactNumber, so the answer carries it as sent.
 */
export function peekId(prefix: string): JsonRpcId | ExactNumber | undefined {
  let depth = 0;
  let i = 0;
  while (i < prefix.length) {
    const c = prefix[i] as string;
    if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
    else if (c === '"') {
      const end = stringEnd(prefix, i);
      if (end < 0) return undefined;
      if (depth === 1 && prefix.slice(i, end + 1) === '"id"') {
        const m = /^\s*:\s*("(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(prefix.slice(end + 1));
        if (!m) return undefined;
        let v: unknown;
        try {
          v = JSON.parse(m[1] as string);
        } catch {
          // `01` or a bad escape: not an id JSON would read.
          return undefined;
        }
        if (typeof v === "number" && String(v) !== m[1])
          return Number.isFinite(v) ? new ExactNumber(m[1] as string, v) : undefined;
        return isId(v) ? v : undefined;
      }
      i = end;
    }
    i++;
  }
  return undefined;
}

function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const c = text[i];
    if (c === "\\") i++;
    else if (c === '"') return i;
  }
  return -1;
}
