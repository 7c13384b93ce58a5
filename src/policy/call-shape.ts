import type { ReasonCode } from "./decision.js";
import type { CallLimits } from "./ir.js";

/** A tool call as the policy sees it. */
export interface ToolCall {
  tool: string;
  arguments: Record<string, unknown>;
}

export type CallShape =
  | { ok: true; call: ToolCall }
  | { ok: false; reason: ReasonCode; path: string; message: string };

const MAX_TOOL_NAME = 256;

/**
 * Accept `{tool, arguments}`, MCP `tools/call` params `{name, arguments}` or a whole
 * `tools/call` request, and bound the arguments' depth and size before any rule sees them.
 */
export function shapeCall(value: unknown, limits: CallLimits): CallShape {
  if (!isObject(value)) return bad("call_invalid", "", `a call must be an object, got ${describe(value)}`);
  let body: Record<string, unknown> = value;
  if (value.method !== undefined || value.jsonrpc !== undefined) {
    if (value.method !== "tools/call") {
      return bad(
        "call_invalid",
        "/method",
        `only \`tools/call\` requests carry a tool call, got \`${String(value.method)}\``,
      );
    }
    if (!isObject(value.params))
      return bad("call_invalid", "/params", "a `tools/call` request needs `params` to be an object");
    body = value.params;
  }
  const tool = body.tool ?? body.name;
  if (typeof tool !== "string" || tool.length === 0) {
    return bad("call_invalid", "/tool", "a call needs a non-empty string `tool` (or `name`)");
  }
  if (tool.length > MAX_TOOL_NAME)
    return bad("call_invalid", "/tool", `tool name is over ${MAX_TOOL_NAME} characters`);
  const args = body.arguments ?? {};
  if (!isObject(args))
    return bad("call_invalid", "/arguments", `\`arguments\` must be an object, got ${describe(args)}`);
  const problem = checkBounds(args, limits);
  if (problem) return problem;
  return { ok: true, call: { tool, arguments: args } };
}

function checkBounds(args: Record<string, unknown>, limits: CallLimits): CallShape | undefined {
  let total = 0;
  const stack: { v: unknown; depth: number; pointer: () => string }[] = [
    { v: args, depth: 1, pointer: () => "/arguments" },
  ];
  while (stack.length > 0) {
    const { v, depth, pointer } = stack.pop() as (typeof stack)[number];
    if (typeof v === "string") {
      if (v.length > limits.maxStringLength) {
        return bad(
          "call_too_large",
          pointer(),
          `string of ${v.length} characters is over the ${limits.maxStringLength} limit`,
        );
      }
      total += v.length + 2;
    } else if (v !== null && typeof v === "object") {
      if (depth > limits.maxDepth)
        return bad("call_too_large", pointer(), `arguments nest deeper than ${limits.maxDepth} levels`);
      if (Array.isArray(v)) {
        total += 2 + v.length;
        for (let i = 0; i < v.length; i++)
          stack.push({ v: v[i], depth: depth + 1, pointer: () => `${pointer()}/${i}` });
      } else {
        for (const k of Object.keys(v)) {
          total += k.length + 4;
          stack.push({
            v: (v as Record<string, unknown>)[k],
            depth: depth + 1,
            pointer: () => `${pointer()}/${escapeKey(k)}`,
          });
        }
      }
    } else {
      total += 8;
    }
    if (total > limits.maxTotalBytes)
      return bad("call_too_large", "/arguments", `arguments are over the ${limits.maxTotalBytes} byte limit`);
  }
  return undefined;
}

function bad(reason: ReasonCode, path: string, message: string): CallShape {
  return { ok: false, reason, path, message };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return `a ${typeof v}`;
}

function escapeKey(k: string): string {
  return k.replace(/~/g, "~0").replace(/\//g, "~1");
}
