import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import { sha256Digest } from "../lib/canonical-json.js";
import { type BundleManifest, contentHash, EVENTS_MEMBER, RunRoot } from "./bundle-format.js";
import { type MemberSpans, scanCanonical } from "./canonical-scan.js";
import type { EvidenceLimits } from "./limits.js";
import { parseStrictJson, StrictJsonError } from "./strict-json.js";
import { VerifyStop } from "./verify-codes.js";

const DIGEST = /^sha256:[0-9a-f]{64}$/;

/**
 * `events.ndjson`, streamed: every byte goes into the file hash; lines are checked as they
 * complete (strict JSON, CloudEvents shape, content hash, id, seq, run id). The first line
 * problem is held back until the file hash and size have been checked, because those come
 * first in the verification order; after it, lines are only hashed.
 */
export class EventsChecker {
  private readonly sha = createHash("sha256");
  private readonly root = new RunRoot();
  private bytes = 0;
  private line = 0;
  private count = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private lineFailure: VerifyStop | undefined;

  constructor(
    private readonly manifest: BundleManifest,
    private readonly limits: EvidenceLimits,
  ) {}

  data(chunk: Buffer): void {
    this.sha.update(chunk);
    this.bytes += chunk.length;
    if (this.lineFailure) return;
    try {
      let from = 0;
      for (;;) {
        const nl = chunk.indexOf(0x0a, from);
        if (nl === -1) break;
        const piece = chunk.subarray(from, nl);
        this.line++;
        if (this.pendingBytes + piece.length > this.limits.maxLineBytes) this.tooLong();
        const text = this.pending.length === 0 ? piece : Buffer.concat([...this.pending, piece]);
        this.pending = [];
        this.pendingBytes = 0;
        this.checkLine(text);
        from = nl + 1;
      }
      if (from < chunk.length) {
        this.pending.push(chunk.subarray(from));
        this.pendingBytes += chunk.length - from;
        if (this.pendingBytes > this.limits.maxLineBytes) {
          this.line++;
          this.tooLong();
        }
      }
    } catch (err) {
      if (!(err instanceof VerifyStop)) throw err;
      this.lineFailure = err;
      this.pending = [];
    }
  }

  /** After the last byte: file hash and size, the held-back line problem, then count, run root, bundle id. */
  finish(): { eventCount: number; runRoot: string } {
    const file = this.manifest.files[EVENTS_MEMBER];
    if (this.bytes !== file.bytes)
      throw new VerifyStop(
        "events_size_mismatch",
        `events file has ${this.bytes} bytes, manifest says ${file.bytes}`,
        EVENTS_MEMBER,
      );
    const sha = `sha256:${this.sha.digest("hex")}`;
    if (sha !== file.sha256)
      throw new VerifyStop(
        "events_hash_mismatch",
        `events file hash ${sha} does not match the manifest's ${file.sha256}`,
        EVENTS_MEMBER,
      );
    if (this.lineFailure) throw this.lineFailure;
    if (this.pendingBytes > 0)
      throw new VerifyStop(
        "event_unterminated",
        "last line has no newline",
        `${EVENTS_MEMBER}:${this.line + 1}`,
      );
    if (this.count !== this.manifest.event_count)
      throw new VerifyStop(
        "event_count_mismatch",
        `${this.count} events, manifest says ${this.manifest.event_count}`,
        EVENTS_MEMBER,
      );
    const runRoot = this.root.digest();
    if (runRoot !== this.manifest.run_root)
      throw new VerifyStop(
        "run_root_mismatch",
        `run root ${runRoot} does not match the manifest's ${this.manifest.run_root}`,
        "manifest.json#/run_root",
      );
    if (this.manifest.bundle_id !== runRoot)
      throw new VerifyStop(
        "bundle_id_mismatch",
        `bundle id ${this.manifest.bundle_id} is not the run root ${runRoot}`,
        "manifest.json#/bundle_id",
      );
    return { eventCount: this.count, runRoot };
  }

  private tooLong(): never {
    throw new VerifyStop(
      "limit_line_length",
      `line longer than ${this.limits.maxLineBytes} bytes`,
      `${EVENTS_MEMBER}:${this.line}`,
    );
  }

  private checkLine(buf: Buffer): void {
    const where = `${EVENTS_MEMBER}:${this.line}`;
    if (buf.length === 0) throw new VerifyStop("event_blank_line", "blank line", where);
    if (!isUtf8(buf)) throw new VerifyStop("event_invalid_json", "line is not valid UTF-8", where);
    const text = buf.toString("utf8");
    const spans = scanCanonical(text, this.limits.maxDepth);
    if (spans && text.charCodeAt(0) === 0x7b) {
      this.checkEvent(topLevel(text, spans), where, canonicalSubset(text, spans));
      return;
    }
    let value: unknown;
    try {
      value = parseStrictJson(text, { maxDepth: this.limits.maxDepth });
    } catch (err) {
      if (!(err instanceof StrictJsonError)) throw err;
      const at = `${where}:${err.column}`;
      if (err.code === "json_too_deep") throw new VerifyStop("limit_nesting_depth", err.message, at);
      if (err.code === "json_duplicate_key") throw new VerifyStop("event_duplicate_key", err.message, at);
      throw new VerifyStop("event_invalid_json", err.message, at);
    }
    this.checkEvent(value as Record<string, unknown>, where, undefined);
  }

  /**
   * Shape, content hash, id, seq and run id of one event. `subsetText` is the canonical text of
   * the content-hash subset when the line was canonical (taken from the line, not rebuilt).
   */
  private checkEvent(e: Record<string, unknown>, where: string, subsetText: string | undefined): void {
    const shape = shapeProblem(e);
    if (shape) throw new VerifyStop("event_schema", `event ${shape}`, where);
    const claimed = e.assaycontenthash as string;
    const computed =
      subsetText === undefined
        ? contentHash(e as Parameters<typeof contentHash>[0])
        : sha256Digest(subsetText);
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
    if (seq !== this.count)
      throw new VerifyStop("event_seq_mismatch", `seq ${seq}, expected ${this.count}`, where);
    if (runId !== this.manifest.run_id)
      throw new VerifyStop(
        "event_run_id_mismatch",
        `run id \`${runId}\` is not the manifest's \`${this.manifest.run_id}\``,
        where,
      );
    this.root.add(claimed);
    this.count++;
  }
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
