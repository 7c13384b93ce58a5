import { DECISION_EVENT_TYPE } from "../records/decision-event.js";
import type { ByteOut } from "./byte-out.js";

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
 * A string whose JSON is itself in double quotes, one byte a character: ASCII with no character
 * JSON.stringify escapes (`"`, `\\`, a control character).
 */
export const PLAIN = /^[\x20\x21\x23-\x5b\x5d-\x7f]*$/u;

// The values new on every call are checked with these regexes rather than loops over their
// characters: a call's strings are concatenations, and a loop's every `charCodeAt` unwrapped one
// (~35 instructions a character, callgrind). With the line also written in one piece, the gate's
// main thread ran ~94k instructions a pipelined call instead of ~103k (the record hop ~65k), with
// as many instruction-cache misses; its CPU time did not change beyond the machine's spread
// (docs/gate-performance.md, "Counted instead of timed").

/**
 * The decision log lines of the gate's tool decision records. `encode` vouches for a record only
 * when the schema validator would accept it, and then writes exactly what JSON.stringify writes
 * (as UTF-8); for anything else (another record type, a key it does not expect or in another
 * order, violations, logged arguments, a value not seen before) it writes nothing and returns
 * false, and the caller validates and encodes the record as usual, then hands it to `accepted`.
 */
export class RecordLines {
  /** Per field (its SLOT): the values the validator accepted there, with their JSON. */
  private readonly seen = REPEATED.map(() => new Map<unknown, string>());
  /** The repeated values of the last record written (by SLOT), and the bytes they make. */
  private readonly last: unknown[] = REPEATED.map(() => undefined);
  private segments: Segments | undefined;
  private lastTime: string | undefined;

  /** Write the JSON text of `event` (no newline) to `out`; false (nothing written) when it must go through the validator. */
  encode(event: unknown, out: ByteOut): boolean {
    if (!isPlain(event)) return false;
    const e = event as Record<string, unknown>;
    const subject = e.subject;
    if (!sameKeys(e, subject === undefined ? EVENT_KEYS_NO_SUBJECT : EVENT_KEYS)) return false;
    const d = e.data;
    if (!isPlain(d)) return false;
    const data = d as Record<string, unknown>;
    if (!sameKeys(data, DATA_KEYS)) return false;
    const v = data.violations;
    if (!Array.isArray(v) || v.length !== 0 || (v as { toJSON?: unknown }).toJSON !== undefined) return false;

    // Most records repeat every repeated value of the one before: then its bytes are reused.
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
    if (seg === undefined) return false;

    // The values new on every call, checked as the schema says.
    const id = e.id;
    const time = e.time;
    const callId = data.tool_call_id;
    const requestId = data.request_id;
    const latency = data.latency_us;
    const digest = data.arguments_digest;
    if (!nonEmptyString(id) || !this.isTime(time) || !nonEmptyString(callId)) return false;
    if (!(typeof requestId === "string" || requestId === null || isFiniteNumber(requestId))) return false;
    if (!isFiniteNumber(latency) || latency < 0) return false;
    if (digest !== null && (typeof digest !== "string" || !DIGEST.test(digest))) return false;

    // The record's line as one string written once: a single copy into the buffer rather than a
    // loop per value (a character copied by a JavaScript loop took ~30 instructions, callgrind).
    const idPlain = PLAIN.test(id);
    const callIdPlain = PLAIN.test(callId);
    let ascii = seg.ascii && idPlain && callIdPlain;
    let request: string;
    if (typeof requestId !== "string") request = requestId === null ? "null" : String(requestId);
    else if (PLAIN.test(requestId)) request = `"${requestId}"`;
    else {
      request = JSON.stringify(requestId);
      ascii = false;
    }
    // A finite number and a digest (hex) are written by JSON.stringify as they are, and so is a
    // time: digits, `-`, `T`, `:`, `.`, `Z`, `+`.
    const line =
      seg.head +
      (idPlain ? `"${id}"` : JSON.stringify(id)) +
      seg.source +
      `"${time}"` +
      seg.decision +
      (callIdPlain ? `"${callId}"` : JSON.stringify(callId)) +
      `,"request_id":${request}` +
      seg.session +
      String(latency) +
      (digest === null ? ',"arguments_digest":null}}' : `,"arguments_digest":"${digest}"}}`);
    if (ascii) out.ascii(line);
    else out.utf8(line);
    return true;
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
    const head = `{"specversion":${specversion},"id":`;
    const sourceText = `,"source":${source},"type":${type},"time":`;
    const decision =
      `,"datacontenttype":${contentType}${subject === undefined ? "" : `,"subject":${subjectJson}`},` +
      `"data":{"effect":${effect},"rule_id":${ruleId},"reason_code":${reason},"message":${message},` +
      `"violations":[],"policy_digest":${policy},"tool":${tool},"tool_call_id":`;
    const sessionText = `,"session_id":${session},"outcome":${outcome},"dry_run":${dryRun},"latency_us":`;
    const text = head + sourceText + decision + sessionText;
    // Past ASCII a character takes two or more bytes of UTF-8.
    const ascii = Buffer.byteLength(text, "utf8") === text.length;
    this.segments = { head, source: sourceText, decision, session: sessionText, ascii };
    return this.segments;
  }

  /**
   * `event` passed the schema validator: remember its repeated values (when it is a record `encode`
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

  /** Whether `value` is a `time` the schema accepts (it changes once a millisecond). */
  private isTime(value: unknown): value is string {
    // A string first: before any record, `lastTime` is undefined, and so may be a record's `time`.
    if (typeof value !== "string") return false;
    if (value === this.lastTime) return true;
    if (!TIME.test(value)) return false;
    this.lastTime = value;
    return true;
  }
}

/** A record's text around its new values (id, time, tool_call_id, request_id, latency, digest). */
interface Segments {
  head: string;
  source: string;
  decision: string;
  session: string;
  /** Whether all four are ASCII (then a line whose new values are too is written one byte a character). */
  ascii: boolean;
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

function nonEmptyString(v: unknown): v is string {
  return typeof v === "string" && v.length > 0;
}

function isFiniteNumber(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v);
}
