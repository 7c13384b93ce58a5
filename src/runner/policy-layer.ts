import { readFile } from "node:fs/promises";
import { AssayError } from "../lib/errors.js";
import { schemaValidator } from "../lib/schema-validator.js";
import { DECISION_EVENT_TYPE, FRAME_REJECTED_EVENT_TYPE } from "../records/decision-event.js";
import { type PolicyEventLine, type PolicyLayer, RUNNER_SCHEMA } from "./contract.js";

const validLine = schemaValidator<PolicyEventLine>("runner-policy-event");

/**
 * Read the gates' decision logs (the NDJSON `assay mcp wrap --decision-log` writes, one log per
 * MCP server) into layers/policy.ndjson (contract §7): one line per decision, the logs taken in
 * the order given, `seq` from 0 across all of them.
 *
 * Where we differ from the earlier implementation, which required every line to be a decision:
 * our logs also hold `assay.gate.started` and `assay.gate.frame_rejected` records, so a line whose
 * `type` is another string is skipped; a line that is not a JSON object with a string `type` is
 * still an error. A log that does not exist is a server the agent never started: it adds nothing.
 * Zero decisions overall gives an empty layer; whether that is an error is the capture's call.
 *
 * Throws `runner_layer_invalid` located at `file:line` (1-based, blank lines counted) for a line
 * that breaks the contract, `input_unreadable` for a log that cannot be read.
 */
export async function readPolicyLayer(paths: readonly string[], runId: string): Promise<PolicyLayer> {
  const events: PolicyEventLine[] = [];
  // Frames the gate refused (fail closed) carry no decision but are not silent: counted here,
  // they go into the s4 note and make the correlation partial.
  const counts = { frameRejections: 0 };
  for (const file of paths) {
    const text = await readLog(file);
    if (text !== null) parseDecisions(text, file, runId, events, counts);
  }
  return { events, ndjson: events.map((e) => `${JSON.stringify(e)}\n`).join(""), ...counts };
}

async function readLog(file: string): Promise<string | null> {
  try {
    // Invalid UTF-8 becomes U+FFFD, as the earlier implementation's lossy read does.
    return await readFile(file, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    throw new AssayError("input_unreadable", `cannot read the decision log: ${code ?? String(err)}`, {
      where: file,
      cause: err,
    });
  }
}

/** Append the decisions of one log's text to `out`, numbering on from its length. */
function parseDecisions(
  text: string,
  file: string,
  runId: string,
  out: PolicyEventLine[],
  counts: { frameRejections: number },
): void {
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] as string).trim();
    if (raw === "") continue;
    const where = `${file}:${i + 1}`;
    const fail = (message: string) => new AssayError("runner_layer_invalid", message, { where });
    let record: unknown;
    try {
      record = JSON.parse(raw);
    } catch (err) {
      throw fail(`decision log line is not json: ${(err as Error).message}`);
    }
    if (!isObject(record)) throw fail("decision log line is not a json object");
    if (typeof record.type !== "string") throw fail("decision log line has no string `type`");
    if (record.type === FRAME_REJECTED_EVENT_TYPE) counts.frameRejections++;
    if (record.type !== DECISION_EVENT_TYPE) continue;
    const source = nonEmpty(record.source);
    if (source === null) throw fail("decision has no non-empty string `source`");
    const data = record.data;
    if (!isObject(data)) throw fail("decision has no `data` object");
    const tool = nonEmpty(data.tool);
    if (tool === null) throw fail("decision has no non-empty string `data.tool`");
    const toolCallId = nonEmpty(data.tool_call_id);
    if (toolCallId === null) throw fail("decision has no non-empty string `data.tool_call_id`");
    // The contract's `data.decision` is the policy's verdict. Our records (decision-event.ts) have
    // no `decision` field: the verdict is `data.effect` (allow | warn | deny). `data.outcome`
    // (forwarded | denied | would_deny) is what the gate did with it, so a dry run's deny stays
    // `deny`. A record that does carry `decision` (the earlier implementation's shape) uses it.
    const field = "decision" in data ? "decision" : "effect";
    const decision = nonEmpty(data[field]);
    if (decision === null) throw fail(`decision has no non-empty string \`data.${field}\``);
    const line: PolicyEventLine = {
      schema: RUNNER_SCHEMA.policyEvent,
      run_id: runId,
      seq: out.length,
      source_event_type: DECISION_EVENT_TYPE,
      source,
      tool_call_id: toolCallId,
      tool,
      decision,
    };
    // The checks above make a valid line; the schema (the contract's source of truth) has the last word.
    if (!validLine(line)) throw fail(`policy event does not match its schema: ${schemaProblem(validLine)}`);
    out.push(line);
  }
}

function schemaProblem(v: typeof validLine): string {
  const e = v.errors?.[0];
  return e ? `${e.instancePath || "/"} ${e.message ?? "is invalid"}` : "is invalid";
}

function nonEmpty(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const trimmed = value.trim();
  return trimmed === "" ? null : trimmed;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
