import { writeFileSync } from "node:fs";
import { join } from "node:path";

const DIGEST = `sha256:${"a".repeat(64)}`;

/** One gate decision log record (schemas/decision-event.schema.json); `i` varies the content. */
export function decisionRecord(i: number, pad = ""): Record<string, unknown> {
  if (i % 7 === 3)
    return {
      specversion: "1.0",
      id: `s1:${i}`,
      source: "urn:assay:mcp-gate:test",
      type: "assay.gate.frame_rejected",
      time: "2026-01-02T03:04:05Z",
      datacontenttype: "application/json",
      data: {
        request_id: null,
        session_id: "s1",
        reason: "unparsable",
        message: "unparsable frame",
        bytes: 12,
      },
    };
  return {
    specversion: "1.0",
    id: `s1:${i}`,
    source: "urn:assay:mcp-gate:test",
    type: "assay.tool.decision",
    time: "2026-01-02T03:04:05.678Z",
    datacontenttype: "application/json",
    subject: "read_file",
    data: {
      effect: i % 2 === 0 ? "allow" : "deny",
      rule_id: "fs",
      reason_code: i % 2 === 0 ? "allowed" : "tool_denied",
      message: `call ${i} to \`read_file\`${pad}`,
      violations: [],
      policy_digest: DIGEST,
      tool: "read_file",
      tool_call_id: `s1:number:${i}`,
      request_id: i,
      session_id: "s1",
      outcome: i % 2 === 0 ? "forwarded" : "denied",
      dry_run: false,
      latency_us: 12.5 + i,
      arguments_digest: DIGEST,
      arguments: { path: `/workspace/file-${i}.txt`, note: "héllo ☃ 😀" },
    },
  };
}

/** A decision log of `n` records as NDJSON text. */
export function decisionLog(n: number): string {
  let out = "";
  for (let i = 0; i < n; i++) out += `${JSON.stringify(decisionRecord(i))}\n`;
  return out;
}

/** Write a decision log of `n` records into `dir` and return its path. */
export function writeDecisionLog(dir: string, n: number, name = "decisions.ndjson"): string {
  const path = join(dir, name);
  writeFileSync(path, decisionLog(n));
  return path;
}
