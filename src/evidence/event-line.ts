import { isAscii, isUtf8 } from "node:buffer";
import { sha256Digest } from "../lib/canonical-json.js";
import { ATTRIBUTE_NAME, contentHash } from "./bundle-format.js";
import { type MemberSpans, scanCanonical } from "./canonical-scan.js";
import { parseStrictJson, StrictJsonError } from "./strict-json.js";
import { VerifyStop } from "./verify-codes.js";

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** What the checks that need the lines before it (seq, run id, run root) read from one event line. */
export interface EventLineFacts {
  contentHash: string;
  seq: number;
  runId: string;
}

/**
 * Everything one line of `events.ndjson` must be on its own, in the verification order: not
 * blank, UTF-8, strict JSON within `maxDepth` (numbers read as RFC 8785 reads them), the
 * CloudEvents shape (extension attributes too), its content hash, its id.
 * Throws `VerifyStop` at the first problem. Pure, so it can run in a worker thread.
 */
export function checkEventLine(buf: Uint8Array, where: string, maxDepth: number): EventLineFacts {
  if (buf.length === 0) throw new VerifyStop("event_blank_line", "blank line", where);
  // ASCII (the usual line) decodes as latin1 without transcoding: same text, less work.
  const ascii = isAscii(buf);
  if (!ascii && !isUtf8(buf)) throw new VerifyStop("event_invalid_json", "line is not valid UTF-8", where);
  const text = Buffer.from(buf.buffer, buf.byteOffset, buf.length).toString(ascii ? "latin1" : "utf8");
  const spans = scanCanonical(text, maxDepth);
  if (spans && text.charCodeAt(0) === 0x7b) {
    const e = topLevel(text, spans);
    // Every member read as a format attribute (all of Assay's own lines): no extensions to check.
    const extension = spans.size === e.size ? undefined : extensionInSpans(text, spans);
    return checkEvent(e.attributes, where, canonicalSubset(text, spans), extension);
  }
  let value: unknown;
  try {
    // Numbers as RFC 8785 reads them: the content hash is over the doubles they read as.
    value = parseStrictJson(text, { maxDepth, numbers: "rfc8785" });
  } catch (err) {
    if (!(err instanceof StrictJsonError)) throw err;
    const at = `${where}:${err.column}`;
    if (err.code === "json_too_deep") throw new VerifyStop("limit_nesting_depth", err.message, at);
    if (err.code === "json_duplicate_key") throw new VerifyStop("event_duplicate_key", err.message, at);
    throw new VerifyStop("event_invalid_json", err.message, at);
  }
  const e = value as Record<string, unknown>;
  const extension = typeof e === "object" && e !== null ? extensionInObject(e) : undefined;
  return checkEvent(e, where, undefined, extension);
}

/**
 * Shape, content hash and id of one event. `subsetText` is the canonical text of the
 * content-hash subset when the line was canonical (taken from the line, not rebuilt);
 * `extension` the problem of its extension attributes, if any.
 */
function checkEvent(
  e: Record<string, unknown>,
  where: string,
  subsetText: string | undefined,
  extension: string | undefined,
): EventLineFacts {
  const shape = shapeProblem(e) ?? extension;
  if (shape) throw new VerifyStop("event_schema", `event ${shape}`, where);
  const claimed = e.assaycontenthash as string;
  const computed =
    subsetText === undefined ? contentHash(e as Parameters<typeof contentHash>[0]) : sha256Digest(subsetText);
  if (claimed !== computed)
    throw new VerifyStop(
      "event_content_hash_mismatch",
      `content hash ${computed} does not match the event's ${claimed}`,
      where,
    );
  const seq = e.assayseq as number;
  const runId = e.assayrunid as string;
  if (e.id !== `${runId}:${seq}`)
    throw new VerifyStop(
      "event_id_mismatch",
      `event id \`${String(e.id)}\` is not \`${runId}:${seq}\``,
      where,
    );
  return { contentHash: claimed, seq, runId };
}

/** The format's string attributes: with `assayseq` and `data`, all it gives a meaning. */
const TOP_LEVEL_STRINGS = [
  "specversion",
  "id",
  "source",
  "type",
  "time",
  "datacontenttype",
  "subject",
  "dataschema",
  "assayrunid",
  "assayproducer",
  "assayproducerversion",
  "assaycontenthash",
] as const;

/**
 * The format attributes of a canonical line (`data` as null: it is not parsed) and how many
 * there were.
 */
function topLevel(text: string, spans: MemberSpans): { attributes: Record<string, unknown>; size: number } {
  const e: Record<string, unknown> = {};
  let size = 0;
  for (const k of TOP_LEVEL_STRINGS) {
    const span = spans.get(k);
    if (span) {
      e[k] = decode(text, span[0], span[1]);
      size++;
    }
  }
  const seq = spans.get("assayseq");
  if (seq) {
    e.assayseq = JSON.parse(text.slice(seq[0], seq[1]));
    size++;
  }
  if (spans.has("data")) {
    e.data = null;
    size++;
  }
  return { attributes: e, size };
}

function decode(text: string, start: number, end: number): unknown {
  if (text.charCodeAt(start) === 0x22) {
    const inner = text.slice(start + 1, end - 1);
    if (!inner.includes("\\")) return inner;
  }
  return JSON.parse(text.slice(start, end));
}

/**
 * The canonical JSON of `{data, datacontenttype, specversion, subject?, type}` (already in key
 * order) from the values' own canonical text, or undefined when a member is missing.
 */
function canonicalSubset(text: string, spans: MemberSpans): string | undefined {
  const part = (k: string): string | undefined => {
    const span = spans.get(k);
    return span ? `"${k}":${text.slice(span[0], span[1])}` : undefined;
  };
  const parts = [part("data"), part("datacontenttype"), part("specversion"), part("subject"), part("type")];
  if (parts[0] === undefined || parts[1] === undefined || parts[2] === undefined || parts[4] === undefined)
    return undefined;
  return `{${parts.filter((p) => p !== undefined).join(",")}}`;
}

const REQUIRED_STRINGS = [
  "id",
  "type",
  "datacontenttype",
  "assayrunid",
  "assayproducer",
  "assayproducerversion",
] as const;
/** CloudEvents 1.0 optional attributes: strings when present (of these, only `subject` is hashed). */
const OPTIONAL_STRINGS = ["time", "subject", "dataschema"] as const;
/** Every attribute the format gives a meaning; any other is an extension. */
const FORMAT_ATTRIBUTES = new Set<string>([...TOP_LEVEL_STRINGS, "assayseq", "data"]);

function shapeProblem(e: Record<string, unknown>): string | undefined {
  if (typeof e !== "object" || e === null || Array.isArray(e)) return "is not a JSON object";
  if (e.specversion !== "1.0") return "`specversion` is not `1.0`";
  for (const k of REQUIRED_STRINGS)
    if (typeof e[k] !== "string" || (e[k] as string).length === 0)
      return `\`${k}\` is not a non-empty string`;
  if (typeof e.source !== "string" || !e.source.includes(":"))
    return "`source` is not a string containing `:`";
  for (const k of OPTIONAL_STRINGS)
    if (e[k] !== undefined && typeof e[k] !== "string") return `\`${k}\` is not a string`;
  if (!("data" in e)) return "has no `data`";
  if (!Number.isSafeInteger(e.assayseq) || (e.assayseq as number) < 0)
    return "`assayseq` is not a non-negative integer";
  if (typeof e.assaycontenthash !== "string" || !DIGEST.test(e.assaycontenthash))
    return "`assaycontenthash` is not a sha256 digest";
  return undefined;
}

// Extensions (`assaygit`, `assaypii`, `traceparent`, ...) are not hashed, but must be CloudEvents
// attributes. A canonical line's are read from its spans (all of Assay's own are format attributes).

function extensionInSpans(text: string, spans: MemberSpans): string | undefined {
  for (const k of spans.keys())
    if (!FORMAT_ATTRIBUTES.has(k)) {
      const [start, end] = spans.get(k) as [number, number];
      const problem = extensionProblem(k, decode(text, start, end));
      if (problem) return problem;
    }
  return undefined;
}

function extensionInObject(e: Record<string, unknown>): string | undefined {
  for (const k of Object.keys(e))
    if (!FORMAT_ATTRIBUTES.has(k)) {
      const problem = extensionProblem(k, e[k]);
      if (problem) return problem;
    }
  return undefined;
}

function extensionProblem(k: string, v: unknown): string | undefined {
  if (k === "data_base64") return "has `data_base64`: a bundle event carries its payload in `data`";
  if (!ATTRIBUTE_NAME.test(k)) return `attribute \`${k}\` is not lowercase letters and digits`;
  if (v !== null && typeof v !== "string" && typeof v !== "boolean" && !Number.isInteger(v))
    return `extension \`${k}\` is not a string, boolean or integer`;
  return undefined;
}
