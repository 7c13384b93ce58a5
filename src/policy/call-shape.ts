import type { ReasonCode } from "./decision.js";
import type { CallLimits } from "./ir.js";
import { escapeSegment } from "./json-pointer.js";

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
  // An MCP server runs `params.name` and nothing else; a plain call may say `tool` or `name`, never two names.
  const viaRpc = body !== value;
  if (!viaRpc && body.tool !== undefined && body.name !== undefined && body.tool !== body.name) {
    return bad("call_invalid", "/tool", "`tool` and `name` name different tools");
  }
  const tool = viaRpc ? body.name : (body.tool ?? body.name);
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
  // Only objects and arrays get an entry; a JSON pointer is built only when something is wrong.
  const nodes: object[] = [args];
  const depths: number[] = [1];
  const parents: number[] = [-1];
  const keys: string[] = [""];
  const pointer = (node: number, child?: string): string => {
    const parts = child === undefined ? [] : [child];
    for (let i = node; i > 0; i = parents[i] as number) parts.push(keys[i] as string);
    return `/arguments${parts.reverse().join("")}`;
  };
  const stack = [0];
  let total = 0;
  while (stack.length > 0) {
    const i = stack.pop() as number;
    const node = nodes[i] as Record<string, unknown>;
    const depth = depths[i] as number;
    if (depth > limits.maxDepth)
      return bad("call_too_large", pointer(i), `arguments nest deeper than ${limits.maxDepth} levels`);
    const isArray = Array.isArray(node);
    const names = isArray ? undefined : Object.keys(node);
    const count = isArray ? (node as unknown as unknown[]).length : (names as string[]).length;
    total += 2;
    for (let j = 0; j < count; j++) {
      const name = names ? (names[j] as string) : undefined;
      const v = name === undefined ? (node as unknown as unknown[])[j] : node[name];
      total += name === undefined ? 1 : name.length + 4;
      if (typeof v === "string") {
        if (v.length > limits.maxStringLength) {
          const at = pointer(i, `/${name === undefined ? j : escapeSegment(name)}`);
          return bad(
            "call_too_large",
            at,
            `string of ${v.length} characters is over the ${limits.maxStringLength} limit`,
          );
        }
        total += v.length + 2;
      } else if (v !== null && typeof v === "object") {
        nodes.push(v);
        depths.push(depth + 1);
        parents.push(i);
        keys.push(`/${name === undefined ? j : escapeSegment(name)}`);
        stack.push(nodes.length - 1);
      } else {
        if (typeof v === "number" && !Number.isFinite(v)) {
          // `1e400` parses as Infinity, which JSON cannot carry on: the server would get null.
          const at = pointer(i, `/${name === undefined ? j : escapeSegment(name)}`);
          return bad("call_invalid", at, "number out of range: it cannot be passed on as JSON");
        }
        total += 8;
      }
      if (total > limits.maxTotalBytes) {
        return bad(
          "call_too_large",
          "/arguments",
          `arguments are over the ${limits.maxTotalBytes} byte limit`,
        );
      }
    }
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
