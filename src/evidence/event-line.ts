import { isAscii, isUtf8 } from "node:buffer";
import { sha256Digest } from "../lib/canonical-json.js";
import { contentHash } from "./bundle-format.js";
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
 * blank, UTF-8, strict JSON within `maxDepth`, the CloudEvents shape, its content hash, its id.
 * Throws `VerifyStop` at the first problem. Pure, so it can run in a worker thread.
 */
export function checkEventLine(buf: Uint8Array, where: string, maxDepth: number): EventLineFacts {
  if (buf.length === 0) throw new VerifyStop("event_blank_line", "blank line", where);
  // ASCII (the usual line) decodes as latin1 without transcoding: same text, less work.
  const ascii = isAscii(buf);
  if (!ascii && !isUtf8(buf)) throw new VerifyStop("event_invalid_json", "line is not valid UTF-8", where);
  const text = Buffer.from(buf.buffer, buf.byteOffset, buf.length).toString(ascii ? "latin1" : "utf8");
  const spans = scanCanonical(text, maxDepth);
  if (spans && text.charCodeAt(0) === 0x7b)
    return checkEvent(topLevel(text, spans), where, canonicalSubset(text, spans));
  let value: unknown;
  try {
    value = parseStrictJson(text, { maxDepth });
  } catch (err) {
    if (!(err instanceof StrictJsonError)) throw err;
    const at = `${where}:${err.column}`;
    if (err.code === "json_too_deep") throw new VerifyStop("limit_nesting_depth", err.message, at);
    if (err.code === "json_duplicate_key") throw new VerifyStop("event_duplicate_key", err.message, at);
    throw new VerifyStop("event_invalid_json", err.message, at);
  }
  return checkEvent(value as Record<string, unknown>, where, undefined);
}

/**
 * Shape, content hash and id of one event. `subsetText` is the canonical text of the
 * content-hash subset when the line was canonical (taken from the line, not rebuilt).
 */
function checkEvent(
  e: Record<string, unknown>,
  where: string,
  subsetText: string | undefined,
): EventLineFacts {
  const shape = shapeProblem(e);
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

const TOP_LEVEL_STRINGS = [
  "specversion",
  "id",
  "source",
  "type",
  "time",
  "datacontenttype",
  "subject",
  "assayrunid",
  "assayproducer",
  "assayproducerversion",
  "assaycontenthash",
] as const;

/** The top-level attributes the checks read, taken from a canonical line without parsing `data`. */
function topLevel(text: string, spans: MemberSpans): Record<string, unknown> {
  const e: Record<string, unknown> = {};
  for (const k of TOP_LEVEL_STRINGS) {
    const span = spans.get(k);
    if (span) e[k] = decode(text, span[0], span[1]);
  }
  const seq = spans.get("assayseq");
  if (seq) e.assayseq = JSON.parse(text.slice(seq[0], seq[1]));
  if (spans.has("data")) e.data = null;
  return e;
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

function shapeProblem(e: Record<string, unknown>): string | undefined {
  if (typeof e !== "object" || e === null || Array.isArray(e)) return "is not a JSON object";
  if (e.specversion !== "1.0") return "`specversion` is not `1.0`";
  for (const k of [
    "id",
    "type",
    "datacontenttype",
    "assayrunid",
    "assayproducer",
    "assayproducerversion",
  ] as const)
    if (typeof e[k] !== "string" || (e[k] as string).length === 0)
      return `\`${k}\` is not a non-empty string`;
  if (typeof e.source !== "string" || !e.source.includes(":"))
    return "`source` is not a string containing `:`";
  if (e.subject !== undefined && typeof e.subject !== "string") return "`subject` is not a string";
  if (e.time !== undefined && typeof e.time !== "string") return "`time` is not a string";
  if (!("data" in e)) return "has no `data`";
  if (!Number.isSafeInteger(e.assayseq) || (e.assayseq as number) < 0)
    return "`assayseq` is not a non-negative integer";
  if (typeof e.assaycontenthash !== "string" || !DIGEST.test(e.assaycontenthash))
    return "`assaycontenthash` is not a sha256 digest";
  return undefined;
}
