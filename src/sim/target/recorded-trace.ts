import { AssayError } from "../../lib/errors.js";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "../../lib/json-depth.js";
import {
  DECISION_EVENT_TYPE as DECISION,
  FRAME_REJECTED_EVENT_TYPE as FRAME_REJECTED,
} from "../../records/decision-event.js";
import type { Call, Refusal } from "./types.js";

/**
 * One line of a recorded trace. Two forms are read:
 * - a call, as bundles write them: `{tool, arguments?, context?}`;
 * - a line of a gate decision log (`assay mcp wrap --decision-log … --log-arguments`): a CloudEvent
 *   of type `assay.tool.decision` gives the call it decided; one of type `assay.gate.frame_rejected`
 *   is a frame the gate could not read as a call at all.
 */
export type TraceLine =
  /** `policy_digest`: the policy a gate decided it by (decision records only). */
  | { kind: "call"; call: Call; policy_digest?: string }
  /** A tools/call the gate refused before any rule ran (no usable tool name): its reason code. */
  | { kind: "refused"; reason_code: string; message: string }
  | { kind: "frame_rejected"; reason: string; message: string };

/** Read one parsed line; throws AssayError (`bundle_schema`) naming what is wrong with it. */
export function traceLine(value: unknown, where: string): TraceLine {
  const fail = (message: string): never => {
    throw new AssayError("bundle_schema", message, { where });
  };
  if (!isObject(value)) return fail("each line of a trace must be a JSON object");
  if (value.specversion !== undefined) {
    const data = value.data;
    if (!isObject(data)) return fail("a decision record without a `data` object");
    if (value.type === FRAME_REJECTED) {
      return { kind: "frame_rejected", reason: String(data.reason), message: String(data.message) };
    }
    if (value.type !== DECISION) {
      return fail(`a CloudEvent of type \`${String(value.type)}\`, not \`${DECISION}\``);
    }
    if (data.tool === null) {
      return { kind: "refused", reason_code: String(data.reason_code), message: String(data.message) };
    }
    if (typeof data.tool !== "string") return fail("a decision record whose `data.tool` is not a string");
    if (data.arguments === undefined) {
      return fail(
        "a decision record without `data.arguments`: the log was written without --log-arguments, so it holds only their digest",
      );
    }
    if (!isObject(data.arguments)) return fail("a decision record whose `data.arguments` is not an object");
    return {
      kind: "call",
      call: { tool: data.tool, arguments: data.arguments },
      ...(typeof data.policy_digest === "string" ? { policy_digest: data.policy_digest } : {}),
    };
  }
  if (typeof value.tool !== "string" || value.tool === "") {
    return fail("a call needs `tool`, a non-empty string (or the line must be an Assay decision record)");
  }
  if (value.arguments !== undefined && !isObject(value.arguments)) {
    return fail("a call's `arguments` must be an object");
  }
  if (value.context !== undefined && !isObject(value.context)) {
    return fail("a call's `context` must be an object");
  }
  const extra = Object.keys(value).find((k) => k !== "tool" && k !== "arguments" && k !== "context");
  if (extra !== undefined) return fail(`a call has no field \`${extra}\` (tool, arguments, context)`);
  return {
    kind: "call",
    call: {
      tool: value.tool,
      arguments: (value.arguments as Record<string, unknown> | undefined) ?? {},
      ...(value.context === undefined ? {} : { context: value.context as Record<string, unknown> }),
    },
  };
}

/** Parse a whole trace (NDJSON; blank lines skipped), each line located `where:line`. */
export function parseTrace(text: string, where: string): TraceLine[] {
  const lines: TraceLine[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new AssayError("bundle_syntax", `invalid JSON: ${(err as Error).message}`, {
        where: `${where}:${i + 1}`,
      });
    }
    // Mutations clone the arguments recursively: a stack overflow would name no line.
    if (nestsDeeperThan(line, MAX_JSON_DEPTH))
      throw new AssayError("bundle_syntax", `the line nests deeper than ${MAX_JSON_DEPTH} levels`, {
        where: `${where}:${i + 1}`,
      });
    lines.push(traceLine(value, `${where}:${i + 1}`));
  });
  return lines;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** A replay trace as the bundle holds it. */
export interface RecordedTrace {
  readonly calls: readonly Call[];
  readonly refusals: readonly Refusal[];
}

/** Calls and refusals of a recorded trace, as the judge takes them. */
export function traceOf(lines: readonly TraceLine[]): { ok: true; calls: Call[]; refusals?: Refusal[] } {
  const calls: Call[] = [];
  const refusals: Refusal[] = [];
  for (const line of lines) {
    if (line.kind === "call") calls.push(line.call);
    else if (line.kind === "refused") {
      refusals.push({ rule_id: line.reason_code, dimension: "correctness", message: line.message });
    } else refusals.push({ rule_id: "frame_rejected", dimension: "correctness", message: line.message });
  }
  return { ok: true, calls, ...(refusals.length > 0 ? { refusals } : {}) };
}
