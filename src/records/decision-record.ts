import { schemaValidator } from "../lib/schema-validator.js";
import type { AnyGateEvent } from "./decision-event.js";

const validateEvent = schemaValidator("decision-event");

/** Check a record against schemas/decision-event.schema.json; the first problem as text, or undefined. */
export function decisionEventProblem(event: unknown): string | undefined {
  if (validateEvent(event)) return undefined;
  const e = validateEvent.errors?.[0];
  return e ? `${e.instancePath || "/"} ${e.message ?? "is invalid"}` : "is invalid";
}

/** Throw at the first record that does not match the schema, before any is stored. */
export function assertRecords(events: readonly AnyGateEvent[]): void {
  for (const event of events) assertRecord(event);
}

export function assertRecord(event: unknown): void {
  const problem = decisionEventProblem(event);
  if (problem) throw new Error(`decision record does not match its schema: ${problem}`);
}

/** Parse a decision log's text: complete lines only (a last line without "\n" is still being written). */
export function parseDecisionLog(text: string): AnyGateEvent[] {
  const end = text.lastIndexOf("\n");
  if (end < 0) return [];
  return text
    .slice(0, end)
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as AnyGateEvent);
}
