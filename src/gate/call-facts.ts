import { canonicalDigest } from "../lib/canonical-json.js";
import type { Decision, ReasonCode, Violation } from "../policy/decision.js";
import type { CompiledPolicy } from "../policy/ir.js";

// What the gate reads off a tool call, and the decisions it makes without the policy engine.

/** A deny the gate makes itself, without a rule: one violation at `path` in the message. */
export function gateDeny(
  policy: CompiledPolicy,
  reason: ReasonCode,
  path: string,
  message: string,
): Decision {
  const v: Violation = { rule_id: null, path, message, reason_code: reason, effect: "deny", severity: null };
  return {
    effect: "deny",
    rule_id: null,
    reason_code: reason,
    message,
    violations: [v],
    policy_digest: policy.digest,
  };
}

/** The deny for a pinned tool that changed (`fields`) or could not be checked (`text`). */
export function driftDecision(
  policy: CompiledPolicy,
  tool: string,
  fields?: string[],
  text?: string,
): Decision {
  const message =
    text ??
    `tool \`${tool}\` changed since it was pinned (${(fields ?? []).join(", ")}): re-approve it with \`assay mcp pins update\``;
  return gateDeny(policy, "tool_drift", "/tool", message);
}

/**
 * `tools/call` spelled so that a lenient server might still run it (`Tools/Call`, `tools/call `,
 * `tools/call\u0000`, fullwidth letters): such a method is refused, never forwarded undecided.
 */
export function disguisedToolCall(method: string): boolean {
  if (method === "tools/call") return false;
  return (
    method
      .normalize("NFKC")
      .toLowerCase()
      .replace(/[^a-z0-9/]/g, "") === "tools/call"
  );
}

/** The one line a denied call is answered with. */
export function denyText(d: Decision): string {
  return `denied by policy${d.rule_id ? ` rule \`${d.rule_id}\`` : ""} (${d.reason_code}): ${d.message}`;
}

/**
 * The client's own id for the call: from `params._meta`, else from `params.arguments._meta`
 * (where the earlier implementation's runner fixtures put it), when it sent a usable one.
 */
export function clientToolCallId(meta: object | undefined, args: unknown): string | undefined {
  const own = toolCallId(meta);
  if (own !== undefined || args === null || typeof args !== "object") return own;
  const argsMeta = (args as Record<string, unknown>)._meta;
  return argsMeta !== null && typeof argsMeta === "object" ? toolCallId(argsMeta) : undefined;
}

/** The id a `_meta` object carries, when usable. */
export function toolCallId(meta: object | undefined): string | undefined {
  if (!meta) return undefined;
  const m = meta as Record<string, unknown>;
  for (const key of ["tool_call_id", "toolCallId", "dev.assay/tool_call_id"]) {
    const v = m[key];
    if (typeof v === "string" && v.length > 0 && v.length <= 256) return v;
  }
  return undefined;
}

/** `sha256:` of the canonical JSON of the arguments; null when absent or not JSON. */
export function argumentsDigest(args: unknown): string | null {
  if (args === undefined) return null;
  try {
    return canonicalDigest(args);
  } catch {
    return null;
  }
}
