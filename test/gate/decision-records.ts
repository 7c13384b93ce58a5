import type { DecisionEvent } from "../../src/records/decision-event.js";

/** A well-formed digest for records built in tests. */
export const TEST_DIGEST = `sha256:${"a".repeat(64)}`;

/**
 * A schema-valid `assay.tool.decision` record as the gate writes one: call `seq` of session `s1`,
 * allowed by rule `rule_id`. `data` overrides or adds fields (tests also pass invalid ones).
 */
export function decisionEvent(
  seq: number,
  data: Partial<DecisionEvent["data"]> | Record<string, unknown> = {},
  { tool, rule_id }: { tool: string; rule_id: string } = { tool: "read_file", rule_id: "fs" },
): DecisionEvent {
  return {
    specversion: "1.0",
    id: `s1:${seq}`,
    source: "urn:assay:mcp-gate:test",
    type: "assay.tool.decision",
    time: "2026-01-02T03:04:05.678Z",
    datacontenttype: "application/json",
    subject: tool,
    data: {
      effect: "allow",
      rule_id,
      reason_code: "allowed",
      message: `tool \`${tool}\` is allowed`,
      violations: [],
      policy_digest: TEST_DIGEST,
      tool,
      tool_call_id: `s1:number:${seq}`,
      request_id: seq,
      session_id: "s1",
      outcome: "forwarded",
      dry_run: false,
      latency_us: 12.5,
      arguments_digest: TEST_DIGEST,
      ...data,
    },
  };
}
