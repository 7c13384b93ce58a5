import { readFile } from "node:fs/promises";
import { GATE_STARTED_EVENT_TYPE } from "../../records/decision-event.js";
import { decisionEventProblem } from "../../records/decision-record.js";
import { type TraceLine, traceLine, traceOf } from "../target/recorded-trace.js";
import { infraError, type TrialTrace } from "./driver.js";

/**
 * The trial's trace from the gates' decision logs, one per server. Every record must be a valid
 * gate record (schemas/decision-event.schema.json) of this trial's session, decided by the bundle's
 * policy, from the gate of the server whose log it is in; at least one gate must have started.
 * Anything else is no trustworthy trace: an infra error, never a pass.
 *
 * Calls from several servers are merged by the time their gate recorded them (then by server
 * name, then in log order). A tools/call a gate refused before any rule could run (no usable tool
 * name) and a frame it could not read are the agent's failures, judged like violations.
 */
export async function readTrialLogs(
  logs: readonly { name: string; path: string }[],
  expect: { policyDigest: string; sessionId: string },
): Promise<TrialTrace> {
  const entries: { time: string; server: string; order: number; line: TraceLine }[] = [];
  let started = 0;
  for (const { name, path } of [...logs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") continue; // this server was not used
      return infraError(
        "gate_error",
        `cannot read the decision log of \`${name}\`: ${(err as NodeJS.ErrnoException).code}`,
      );
    }
    const where = `decision log of \`${name}\``;
    if (text !== "" && !text.endsWith("\n"))
      return infraError("gate_error", `the ${where} ends in a cut-off line`);
    const source = `urn:assay:mcp-gate:${encodeURIComponent(name)}`;
    const lines = text.split("\n");
    for (const [i, raw] of lines.entries()) {
      if (raw === "") continue;
      const at = `${where}, line ${i + 1}`;
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(raw);
      } catch {
        return infraError("gate_error", `${at}: not JSON`);
      }
      const problem = decisionEventProblem(record);
      if (problem !== undefined) return infraError("gate_error", `${at}: not a gate record: ${problem}`);
      const data = record.data as { session_id: string; policy_digest?: string };
      if (record.source !== source) {
        return infraError(
          "gate_error",
          `${at}: written by \`${String(record.source)}\`, not this server's gate`,
        );
      }
      if (data.session_id !== expect.sessionId) {
        return infraError(
          "gate_error",
          `${at}: session \`${data.session_id}\`, not this trial's \`${expect.sessionId}\``,
        );
      }
      if (data.policy_digest !== undefined && data.policy_digest !== expect.policyDigest) {
        return infraError(
          "gate_error",
          `${at}: decided by policy ${data.policy_digest}, not the bundle's ${expect.policyDigest}`,
        );
      }
      if (record.type === GATE_STARTED_EVENT_TYPE) {
        started++;
        continue;
      }
      let line: TraceLine;
      try {
        line = traceLine(record, at);
      } catch (err) {
        return infraError("gate_error", (err as Error).message);
      }
      entries.push({ time: String(record.time), server: name, order: i, line });
    }
  }
  if (logs.length > 0 && started === 0) {
    return infraError(
      "gate_not_used",
      "no gate started: the agent did not start any server of its MCP config (ASSAY_MCP_CONFIG), so none of its calls were checked",
    );
  }
  // Sorted by time (ISO 8601 UTC, fixed width: string order is time order), then server, then line.
  entries.sort((a, b) =>
    a.time !== b.time
      ? a.time < b.time
        ? -1
        : 1
      : a.server !== b.server
        ? a.server < b.server
          ? -1
          : 1
        : a.order - b.order,
  );
  return traceOf(entries.map((e) => e.line));
}
