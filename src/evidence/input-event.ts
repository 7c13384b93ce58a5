import {
  DECISION_EVENT_TYPE,
  FRAME_REJECTED_EVENT_TYPE,
  GATE_STARTED_EVENT_TYPE,
} from "../records/decision-event.js";
import { decisionEventProblem } from "../records/decision-record.js";
import { ATTRIBUTE_NAME, contentHash } from "./bundle-format.js";

/**
 * One line of `assay evidence bundle --events`, checked: what the bundle keeps of it. Attributes
 * with a `null` value are left out (CloudEvents reads them as unset); `id` and the attributes the
 * bundler assigns are not kept.
 */
export interface InputEvent {
  source: string;
  type: string;
  time?: string;
  /** As written, or `application/json` (the JSON format's default) when the event has none. */
  datacontenttype: string;
  subject?: string;
  data: unknown;
  /** Every other attribute (`dataschema`, extensions), as written; undefined when there is none. */
  extensions?: Record<string, unknown>;
  /** `sha256:` over `{specversion, type, datacontenttype, subject?, data}` (bundle-format.ts). */
  contentHash: string;
}

/** Why a line is not bundled: a JSON pointer into the event and a one-line message. */
export interface InputProblem {
  pointer: string;
  message: string;
}

/** The attributes the bundler writes itself: whatever an input event says for them is replaced. */
export const ASSIGNED_ATTRIBUTES = [
  "id",
  "assayrunid",
  "assayseq",
  "assaycontenthash",
  "assayproducer",
  "assayproducerversion",
] as const;

const ASSIGNED: ReadonlySet<string> = new Set(ASSIGNED_ATTRIBUTES);
/** Optional CloudEvents attributes with a type of their own, kept in `InputEvent`'s own fields. */
const OPTIONAL = ["time", "datacontenttype", "subject"] as const;
const KNOWN: ReadonlySet<string> = new Set(["specversion", "source", "type", ...OPTIONAL]);
const GATE_TYPES: ReadonlySet<string> = new Set([
  DECISION_EVENT_TYPE,
  FRAME_REJECTED_EVENT_TYPE,
  GATE_STARTED_EVENT_TYPE,
]);
// RFC 3339 date-time (CloudEvents Timestamp).
const TIMESTAMP =
  /^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt]([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)(\.\d+)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)$/;
const ABSOLUTE_URI = /^[A-Za-z][A-Za-z0-9+.-]*:/;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;
const DEFAULT_CONTENT_TYPE = "application/json";

/**
 * Check one parsed line as a CloudEvents 1.0 event for a bundle: the required attributes
 * (`specversion` `1.0`, `id`, `source`, `type`), attribute names and value types, `data` present
 * and no `data_base64`; gate records (`assay.tool.decision`, ...) also against
 * schemas/decision-event.schema.json; a supplied `assaycontenthash` must be the event's own.
 */
export function checkInputEvent(value: unknown): InputEvent | InputProblem {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    return problem("", "not a CloudEvent: a line must be a JSON object");
  const e = value as Record<string, unknown>;
  if (e.specversion === undefined || e.specversion === null)
    return problem("/specversion", "not a CloudEvent: `specversion` is missing");
  if (e.specversion !== "1.0")
    return problem(
      "/specversion",
      `\`specversion\` is ${show(e.specversion)}: only CloudEvents \`1.0\` can be bundled`,
    );
  for (const k of ["id", "source", "type"] as const) {
    const v = e[k];
    if (v === undefined || v === null) return problem(`/${k}`, `not a CloudEvent: \`${k}\` is missing`);
    if (typeof v !== "string" || v.length === 0)
      return problem(`/${k}`, `not a CloudEvent: \`${k}\` must be a non-empty string, not ${show(v)}`);
  }
  if (!(e.source as string).includes(":"))
    return problem(
      "/source",
      `\`source\` \`${e.source as string}\` has no \`:\`: a bundle needs an absolute URI or URN such as \`urn:example:runner\``,
    );
  if ("data_base64" in e)
    return problem(
      "/data_base64",
      "binary `data_base64` cannot be bundled: the content hash covers `data` as JSON",
    );
  if (!("data" in e))
    return problem(
      "",
      'event has no `data`: the content hash covers `data`; write `"data": null` for an event without a payload',
    );

  let extensions: Record<string, unknown> | undefined;
  let assigned = false;
  for (const k in e) {
    if (k === "data" || KNOWN.has(k)) continue;
    if (!ATTRIBUTE_NAME.test(k))
      return problem(
        pointerTo(k),
        `\`${k}\` is not a CloudEvents attribute name (lowercase letters and digits only)`,
      );
    if (ASSIGNED.has(k)) {
      assigned ||= k !== "id";
      continue;
    }
    const v = e[k];
    if (v === null) continue;
    const bad = attributeProblem(k, v);
    if (bad) return problem(`/${k}`, bad);
    extensions ??= {};
    extensions[k] = v;
  }
  for (const k of OPTIONAL) {
    const v = e[k];
    if (v === undefined || v === null) continue;
    const bad = attributeProblem(k, v);
    if (bad) return problem(`/${k}`, bad);
  }

  if (GATE_TYPES.has(e.type as string)) {
    const gateProblem = decisionEventProblem(assigned ? withoutAssigned(e) : e);
    if (gateProblem) {
      // decisionEventProblem says `<instance path or "/"> <message>`.
      const at = gateProblem.indexOf(" ");
      return problem(
        gateProblem.slice(0, at).replace(/^\/$/, ""),
        `not a valid \`${e.type as string}\` record (schemas/decision-event.schema.json): ${gateProblem.slice(at + 1)}`,
      );
    }
  }

  const datacontenttype = (e.datacontenttype ?? DEFAULT_CONTENT_TYPE) as string;
  const subject = (e.subject ?? undefined) as string | undefined;
  const hash = contentHash({ specversion: "1.0", type: e.type, datacontenttype, subject, data: e.data });
  const claimed = e.assaycontenthash;
  if (claimed !== undefined && claimed !== null && claimed !== hash)
    return problem(
      "/assaycontenthash",
      `\`assaycontenthash\` ${show(claimed)} is not the event's content hash ${hash}: the event changed after it was hashed`,
    );
  const time = (e.time ?? undefined) as string | undefined;
  return {
    source: e.source as string,
    type: e.type as string,
    ...(time === undefined ? {} : { time }),
    datacontenttype,
    ...(subject === undefined ? {} : { subject }),
    data: e.data,
    ...(extensions === undefined ? {} : { extensions }),
    contentHash: hash,
  };
}

/** Whether `checkInputEvent` refused the line. */
export function isInputProblem(r: InputEvent | InputProblem): r is InputProblem {
  return "message" in r;
}

function attributeProblem(k: string, v: unknown): string | undefined {
  switch (k) {
    case "time":
      return typeof v === "string" && TIMESTAMP.test(v)
        ? undefined
        : `\`time\` must be an RFC 3339 timestamp, not ${show(v)}`;
    case "datacontenttype":
      return typeof v === "string" && v.length > 0
        ? undefined
        : `\`datacontenttype\` must be a media type, not ${show(v)}`;
    case "dataschema":
      return typeof v === "string" && ABSOLUTE_URI.test(v)
        ? undefined
        : `\`dataschema\` must be an absolute URI, not ${show(v)}`;
    case "subject":
      // A string; the gate writes an empty tool name as an empty subject.
      return typeof v === "string" ? undefined : `\`subject\` must be a string, not ${show(v)}`;
    default:
      if (typeof v === "string" || typeof v === "boolean") return undefined;
      if (Number.isInteger(v) && (v as number) >= INT32_MIN && (v as number) <= INT32_MAX) return undefined;
      if (typeof v === "number")
        return `extension attribute \`${k}\` is ${show(v)}: a CloudEvents Integer is a 32-bit integer (write a larger or fractional number as a string)`;
      return `extension attribute \`${k}\` is ${show(v)}: CloudEvents attributes are strings, integers or booleans`;
  }
}

function withoutAssigned(e: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) if (k === "id" || !ASSIGNED.has(k)) out[k] = v;
  return out;
}

function pointerTo(key: string): string {
  return `/${key.replaceAll("~", "~0").replaceAll("/", "~1")}`;
}

function problem(pointer: string, message: string): InputProblem {
  return { pointer, message };
}

function show(v: unknown): string {
  if (Array.isArray(v)) return "an array";
  if (v === null) return "`null`";
  if (typeof v === "object") return "an object";
  const text = typeof v === "string" ? JSON.stringify(v) : String(v);
  return `\`${text.length > 40 ? `${text.slice(0, 37)}...` : text}\``;
}
