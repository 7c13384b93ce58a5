import { AssayError } from "../lib/errors.js";
import { schemaValidator } from "../lib/schema-validator.js";
import {
  RUNNER_SCHEMA,
  SDK_EVENT_TYPES,
  type SdkEventLine,
  type SdkEventType,
  type SdkLayer,
} from "./contract.js";

const validLine = schemaValidator<SdkEventLine>("runner-sdk-event");
const TOOL_EVENTS: ReadonlySet<string> = new Set<SdkEventType>(["tool_call_started", "tool_call_completed"]);

/**
 * Read the SDK event log the agent wrote into layers/sdk.ndjson (contract §7). Every non-blank
 * line must be an `assay.runner.sdk_event.v0` object of this run whose `seq` is its index among
 * non-blank lines, with a known `event_type` and a non-empty `source`; tool events also need
 * `tool_call_id` and `tool`. Strings are trimmed; an optional one that is absent, null or empty
 * is written as null. The optional fields must be strings when present: a wrong type is an error
 * here, where the earlier implementation silently wrote null.
 *
 * Each input line is checked by hand: the checks depend on the capture's run id and the line's
 * position, fields the contract does not name are ignored (as the earlier implementation does,
 * where the schema would refuse them), and each failure gets its own message located at
 * `file:line` (1-based, blank lines counted). Each output line is then validated against
 * schemas/runner-sdk-event-v0.schema.json. Throws `runner_layer_invalid`; a log without events is
 * an error.
 */
export function readSdkLayer(text: string, runId: string, file: string): SdkLayer {
  const events: SdkEventLine[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const raw = (lines[i] as string).trim();
    if (raw === "") continue;
    events.push(sdkLine(raw, runId, events.length, `${file}:${i + 1}`));
  }
  if (events.length === 0)
    throw new AssayError("runner_layer_invalid", "sdk event log has no events", { where: file });
  return { events, ndjson: events.map((e) => `${JSON.stringify(e)}\n`).join("") };
}

function sdkLine(raw: string, runId: string, index: number, where: string): SdkEventLine {
  const fail = (message: string) => new AssayError("runner_layer_invalid", message, { where });
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch (err) {
    throw fail(`sdk event line is not json: ${(err as Error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw fail("sdk event line is not a json object");
  const v = value as Record<string, unknown>;
  const required = (key: string): string => {
    const s = optional(v, key, fail);
    if (s === null) throw fail(`sdk event has no non-empty string \`${key}\``);
    return s;
  };
  if (v.schema !== RUNNER_SCHEMA.sdkEvent)
    throw fail(`sdk event schema \`${shown(v.schema)}\` is not \`${RUNNER_SCHEMA.sdkEvent}\``);
  const lineRunId = required("run_id");
  if (lineRunId !== runId) throw fail(`sdk event run_id \`${lineRunId}\` is not the capture's \`${runId}\``);
  if (!Number.isSafeInteger(v.seq) || (v.seq as number) < 0)
    throw fail(`sdk event seq \`${JSON.stringify(v.seq) ?? "undefined"}\` is not a non-negative integer`);
  if (v.seq !== index) throw fail(`sdk event seq \`${v.seq}\` should be \`${index}\``);
  const eventType = required("event_type");
  if (!(SDK_EVENT_TYPES as readonly string[]).includes(eventType))
    throw fail(`sdk event_type \`${eventType}\` is not one of ${SDK_EVENT_TYPES.join(", ")}`);
  const source = required("source");
  const sdkName = optional(v, "sdk_name", fail);
  const sdkVersion = optional(v, "sdk_version", fail);
  const toolCallId = optional(v, "tool_call_id", fail);
  const tool = optional(v, "tool", fail);
  if (TOOL_EVENTS.has(eventType)) {
    if (toolCallId === null) throw fail(`sdk event \`${eventType}\` has no non-empty \`tool_call_id\``);
    if (tool === null) throw fail(`sdk event \`${eventType}\` has no non-empty \`tool\``);
  }
  const line: SdkEventLine = {
    schema: RUNNER_SCHEMA.sdkEvent,
    run_id: runId,
    seq: index,
    event_type: eventType as SdkEventType,
    source,
    sdk_name: sdkName,
    sdk_version: sdkVersion,
    tool_call_id: toolCallId,
    tool,
  };
  // The checks above make a valid line; the schema (the contract's source of truth) has the last word.
  if (!validLine(line)) {
    const e = validLine.errors?.[0];
    throw fail(
      `sdk event does not match its schema: ${e ? `${e.instancePath || "/"} ${e.message}` : "is invalid"}`,
    );
  }
  return line;
}

/** A string field trimmed; null when absent, null or empty; an error for any other type. */
function optional(v: Record<string, unknown>, key: string, fail: (m: string) => AssayError): string | null {
  const x = v[key];
  if (x === undefined || x === null) return null;
  if (typeof x !== "string") throw fail(`sdk event \`${key}\` must be a string, not \`${shown(x)}\``);
  const trimmed = x.trim();
  return trimmed === "" ? null : trimmed;
}

function shown(x: unknown): string {
  return x === undefined ? "undefined" : typeof x === "string" ? x : JSON.stringify(x);
}
