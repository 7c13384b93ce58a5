import { DECISION_EVENT_TYPE } from "../records/decision-event.js";

// The record of an allowed tool call is written on every call the gate forwards. Running the
// schema validator over all of it, then JSON.stringify, cost more than a third of the gate's own
// work per call (bench:gate). Most of a record is the same from call to call (source, session,
// policy digest, rule, message): those values are checked once, by the validator, and then only
// recognised; the few that are new on every call are checked here.

const EVENT_KEYS = ["specversion", "id", "source", "type", "time", "datacontenttype", "subject", "data"];
const EVENT_KEYS_NO_SUBJECT = EVENT_KEYS.filter((k) => k !== "subject");
const DATA_KEYS = [
  "effect",
  "rule_id",
  "reason_code",
  "message",
  "violations",
  "policy_digest",
  "tool",
  "tool_call_id",
  "request_id",
  "session_id",
  "outcome",
  "dry_run",
  "latency_us",
  "arguments_digest",
];
/** Values that repeat from record to record: recognised once the validator has accepted them there. */
const EVENT_REPEATED = ["specversion", "source", "type", "datacontenttype", "subject"] as const;
const DATA_REPEATED = [
  "effect",
  "rule_id",
  "reason_code",
  "message",
  "policy_digest",
  "tool",
  "session_id",
  "outcome",
  "dry_run",
] as const;
const REPEATED = [...EVENT_REPEATED, ...DATA_REPEATED];
type Repeated = (typeof REPEATED)[number];
/** Each repeated field's index in RecordLines' tables. */
const SLOT = Object.fromEntries(REPEATED.map((f, i) => [f, i])) as Record<Repeated, number>;
/** Distinct values remembered per field; past it the field starts over (a rule's message may name the tool). */
const MAX_REMEMBERED = 256;

// What schemas/decision-event.schema.json says of the values that change on every call
// (test/gate/record-line.test.ts pins these against the schema).
export const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/u;
export const DIGEST = /^sha256:[0-9a-f]{64}$/u;

/**
 * The decision log lines of the gate's tool decision records. `line` vouches for a record only
 * when the schema validator would accept it, and then returns exactly what JSON.stringify
 * writes; for anything else (another record type, a key it does not expect or in another order,
 * violations, logged arguments, a value not seen before) it returns undefined, and the caller
 * validates and encodes the record as usual, then hands it to `accepted`.
 */
export class RecordLines {
  /** Per field (its SLOT): the values the validator accepted there, with their JSON. */
  private readonly seen = REPEATED.map(() => new Map<unknown, string>());
  /** The repeated values of the last record written (by SLOT), and the text they make. */
  private readonly last: unknown[] = REPEATED.map(() => undefined);
  private segments: Segments | undefined;
  private lastTime: unknown;
  private lastTimeJson = "";

  /** The JSON text of `event` (no newline), or undefined when it must go through the validator. */
  line(event: unknown): string | undefined {
    if (!isPlain(event)) return undefined;
    const e = event as Record<string, unknown>;
    const subject = e.subject;
    if (!sameKeys(e, subject === undefined ? EVENT_KEYS_NO_SUBJECT : EVENT_KEYS)) return undefined;
    const d = e.data;
    if (!isPlain(d)) return undefined;
    const data = d as Record<string, unknown>;
    if (!sameKeys(data, DATA_KEYS)) return undefined;
    const v = data.violations;
    if (!Array.isArray(v) || v.length !== 0 || (v as { toJSON?: unknown }).toJSON !== undefined)
      return undefined;

    // Most records repeat every repeated value of the one before: then its text is reused.
    const l = this.last;
    const seg =
      this.segments !== undefined &&
      l[SLOT.specversion] === e.specversion &&
      l[SLOT.source] === e.source &&
      l[SLOT.type] === e.type &&
      l[SLOT.datacontenttype] === e.datacontenttype &&
      l[SLOT.subject] === subject &&
      l[SLOT.effect] === data.effect &&
      l[SLOT.rule_id] === data.rule_id &&
      l[SLOT.reason_code] === data.reason_code &&
      l[SLOT.message] === data.message &&
      l[SLOT.policy_digest] === data.policy_digest &&
      l[SLOT.tool] === data.tool &&
      l[SLOT.session_id] === data.session_id &&
      l[SLOT.outcome] === data.outcome &&
      l[SLOT.dry_run] === data.dry_run
        ? this.segments
        : this.segmentsOf(e, data);
    if (seg === undefined) return undefined;

    // The values new on every call, checked as the schema says.
    const id = nonEmptyString(e.id);
    const time = this.time(e.time);
    const callId = nonEmptyString(data.tool_call_id);
    const requestId = requestIdJson(data.request_id);
    const latency = data.latency_us;
    const digest = data.arguments_digest;
    if (id === undefined || time === undefined || callId === undefined || requestId === undefined)
      return undefined;
    if (typeof latency !== "number" || !Number.isFinite(latency) || latency < 0) return undefined;
    if (digest !== null && (typeof digest !== "string" || !isDigest(digest))) return undefined;
    // A finite number and a digest (hex) are written by JSON.stringify as they are.
    return (
      `${seg.head}${id}${seg.source}${time}${seg.decision}${callId},"request_id":${requestId}` +
      `${seg.session}${String(latency)},"arguments_digest":${digest === null ? "null" : `"${digest}"`}}}`
    );
  }

  /** The text around the new values, when every repeated value was accepted in its place before. */
  private segmentsOf(e: Record<string, unknown>, data: Record<string, unknown>): Segments | undefined {
    const subject = e.subject;
    const specversion = this.known(SLOT.specversion, e.specversion);
    const source = this.known(SLOT.source, e.source);
    const type = this.known(SLOT.type, e.type);
    const contentType = this.known(SLOT.datacontenttype, e.datacontenttype);
    const subjectJson = subject === undefined ? "" : this.known(SLOT.subject, subject);
    const effect = this.known(SLOT.effect, data.effect);
    const ruleId = this.known(SLOT.rule_id, data.rule_id);
    const reason = this.known(SLOT.reason_code, data.reason_code);
    const message = this.known(SLOT.message, data.message);
    const policy = this.known(SLOT.policy_digest, data.policy_digest);
    const tool = this.known(SLOT.tool, data.tool);
    const session = this.known(SLOT.session_id, data.session_id);
    const outcome = this.known(SLOT.outcome, data.outcome);
    const dryRun = this.known(SLOT.dry_run, data.dry_run);
    if (
      specversion === undefined ||
      source === undefined ||
      type === undefined ||
      contentType === undefined ||
      subjectJson === undefined ||
      effect === undefined ||
      ruleId === undefined ||
      reason === undefined ||
      message === undefined ||
      policy === undefined ||
      tool === undefined ||
      session === undefined ||
      outcome === undefined ||
      dryRun === undefined
    )
      return undefined;
    const l = this.last;
    for (const f of EVENT_REPEATED) l[SLOT[f]] = e[f];
    for (const f of DATA_REPEATED) l[SLOT[f]] = data[f];
    this.segments = {
      head: `{"specversion":${specversion},"id":`,
      source: `,"source":${source},"type":${type},"time":`,
      decision:
        `,"datacontenttype":${contentType}${subject === undefined ? "" : `,"subject":${subjectJson}`},` +
        `"data":{"effect":${effect},"rule_id":${ruleId},"reason_code":${reason},"message":${message},` +
        `"violations":[],"policy_digest":${policy},"tool":${tool},"tool_call_id":`,
      session: `,"session_id":${session},"outcome":${outcome},"dry_run":${dryRun},"latency_us":`,
    };
    return this.segments;
  }

  /**
   * `event` passed the schema validator: remember its repeated values (when it is a record `line`
   * could have written), so the next record with the same ones needs no validator.
   */
  accepted(event: unknown): void {
    if (!isPlain(event)) return;
    const e = event as Record<string, unknown>;
    if (
      e.type !== DECISION_EVENT_TYPE ||
      !sameKeys(e, e.subject === undefined ? EVENT_KEYS_NO_SUBJECT : EVENT_KEYS)
    )
      return;
    const data = e.data;
    if (!isPlain(data) || !sameKeys(data as Record<string, unknown>, DATA_KEYS)) return;
    for (const f of EVENT_REPEATED) this.remember(f, e[f]);
    for (const f of DATA_REPEATED) this.remember(f, (data as Record<string, unknown>)[f]);
  }

  private remember(field: Repeated, value: unknown): void {
    // Strings, booleans and null: values a Map tells apart exactly as JSON does.
    if (typeof value !== "string" && typeof value !== "boolean" && value !== null) return;
    const slot = SLOT[field];
    const m = this.seen[slot] as Map<unknown, string>;
    if (m.has(value)) return;
    // INVARIANT: what `segments` was made of stays in `seen` (it is cleared with it).
    if (m.size >= MAX_REMEMBERED) {
      m.clear();
      this.segments = undefined;
    }
    m.set(value, JSON.stringify(value));
  }

  /** The JSON of a repeated value the validator accepted in this place before; undefined otherwise. */
  private known(slot: number, value: unknown): string | undefined {
    return (this.seen[slot] as Map<unknown, string>).get(value);
  }

  /** The JSON of a `time` the schema accepts (it changes once a millisecond). */
  private time(value: unknown): string | undefined {
    if (value === this.lastTime) return this.lastTimeJson;
    if (typeof value !== "string" || !(isClockTime(value) || TIME.test(value))) return undefined;
    this.lastTime = value;
    // Digits, `-`, `T`, `:`, `.`, `Z`, `+`: nothing JSON escapes.
    this.lastTimeJson = `"${value}"`;
    return this.lastTimeJson;
  }
}

/** A record's text around its new values (id, time, tool_call_id, request_id, latency, digest). */
interface Segments {
  head: string;
  source: string;
  decision: string;
  session: string;
}

/** An object JSON.stringify writes member by member: no toJSON of its own or inherited. */
function isPlain(v: unknown): boolean {
  return (
    typeof v === "object" &&
    v !== null &&
    !Array.isArray(v) &&
    (v as { toJSON?: unknown }).toJSON === undefined
  );
}

/**
 * Whether `obj`'s enumerable keys are `keys`, in that order (the order JSON.stringify writes).
 * `for...in` also lists inherited enumerable keys, which JSON.stringify skips: such an object is
 * refused here, which is only ever slower.
 */
function sameKeys(obj: Record<string, unknown>, keys: readonly string[]): boolean {
  let i = 0;
  for (const k in obj) if (k !== keys[i++]) return false;
  return i === keys.length;
}

function nonEmptyString(v: unknown): string | undefined {
  return typeof v === "string" && v.length > 0 ? quote(v) : undefined;
}

// The two checks below run on every record. Written as loops rather than regex runs, a record's
// line took ~17 µs instead of ~23 µs in a micro-benchmark that evicts the caches between calls, as
// happens to the gate between calls made one at a time (warm, both take ~1 µs).

/** `DIGEST`, checked character by character. */
export function isDigest(v: string): boolean {
  if (v.length !== 71 || !v.startsWith("sha256:")) return false;
  for (let i = 7; i < 71; i++) {
    const c = v.charCodeAt(i);
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return false;
  }
  return true;
}

/** The one form the gate's clock writes a time in (`0` for a digit): one of the forms `TIME` accepts. */
const CLOCK_TIME_SHAPE = "0000-00-00T00:00:00.000Z";

/** Whether `v` is written as the gate's clock writes a time. */
export function isClockTime(v: string): boolean {
  if (v.length !== CLOCK_TIME_SHAPE.length) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i);
    const want = CLOCK_TIME_SHAPE.charCodeAt(i);
    if (want === 0x30 ? !(c >= 0x30 && c <= 0x39) : c !== want) return false;
  }
  return true;
}

/** `$defs/requestId`: a string, a (finite) number or null. */
function requestIdJson(v: unknown): string | undefined {
  if (typeof v === "string") return quote(v);
  if (typeof v === "number") return Number.isFinite(v) ? String(v) : undefined;
  return v === null ? "null" : undefined;
}

/** JSON.stringify of a string, without its escaping pass when there is nothing to escape. */
export function quote(s: string): string {
  return escapes(s) ? JSON.stringify(s) : `"${s}"`;
}

/**
 * Whether `s` holds a character JSON.stringify escapes (`"`, `\\`, a control character) or any
 * surrogate (left to JSON.stringify too). A loop, like the checks above: the regex it replaced
 * took ~9-11 µs with cold caches against ~4-6 µs for this (the same warm).
 */
function escapes(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x22 || c === 0x5c || (c >= 0xd800 && c <= 0xdfff)) return true;
  }
  return false;
}
