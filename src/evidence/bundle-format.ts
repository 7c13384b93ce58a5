import { createHash, type Hash } from "node:crypto";
import { canonicalJson, sha256Digest } from "../lib/canonical-json.js";
import { PACKAGE } from "../lib/package-info.js";

export const MANIFEST_MEMBER = "manifest.json";
export const EVENTS_MEMBER = "events.ndjson";

export const ALGORITHMS = Object.freeze({
  canon: "jcs-rfc8785",
  hash: "sha256",
  root: 'sha256(concat(content_hash + "\\n"))',
});

/** CloudEvents 1.0 §3.1.1: attribute names are lowercase ASCII letters and digits (writer and verifier). */
export const ATTRIBUTE_NAME = /^[a-z0-9]+$/;

/** Who wrote a bundle: recorded in the manifest and in every event. */
export const PRODUCER = PACKAGE;

/** What a bundle pins: the writer reports it, the verifier finds it. */
export interface BundlePins {
  bundle_id: string;
  run_id: string;
  event_count: number;
  run_root: string;
  events_sha256: string;
  events_bytes: number;
}

/** `manifest.json` of an evidence bundle (schemas/evidence-manifest.schema.json). */
export interface BundleManifest {
  schema_version: 1;
  bundle_id: string;
  producer: { name: string; version: string };
  run_id: string;
  event_count: number;
  run_root: string;
  algorithms: typeof ALGORITHMS;
  files: { [EVENTS_MEMBER]: { path: typeof EVENTS_MEMBER; sha256: string; bytes: number } };
}

/**
 * One line of `events.ndjson`: a CloudEvents 1.0 record with Assay's extension attributes, and
 * any other attributes the input event carried (`dataschema`, `traceparent`, extensions).
 */
export interface BundleEvent {
  specversion: "1.0";
  id: string;
  source: string;
  type: string;
  time?: string;
  datacontenttype: string;
  subject?: string;
  data: unknown;
  assayrunid: string;
  assayseq: number;
  assaycontenthash: string;
  assayproducer: string;
  assayproducerversion: string;
  [attribute: string]: unknown;
}

/**
 * The content hash of an event: sha256 of the canonical JSON of `{specversion, type,
 * datacontenttype, subject?, data}`. Time, id, source and the extensions are not covered.
 */
export function contentHash(e: {
  specversion: unknown;
  type: unknown;
  datacontenttype: unknown;
  subject?: unknown;
  data: unknown;
}): string {
  const subset: Record<string, unknown> = {
    specversion: e.specversion,
    type: e.type,
    datacontenttype: e.datacontenttype,
    data: e.data,
  };
  if (e.subject !== undefined) subset.subject = e.subject;
  return sha256Digest(canonicalJson(subset));
}

/** The run root: sha256 over every content hash followed by `\n`, in seq order. */
export class RunRoot {
  private readonly hash: Hash = createHash("sha256");
  add(contentHashDigest: string): void {
    this.hash.update(`${contentHashDigest}\n`);
  }
  digest(): string {
    return `sha256:${this.hash.digest("hex")}`;
  }
}

/** The event id the format requires: `<run_id>:<seq>`. */
export function eventId(runId: string, seq: number): string {
  return `${runId}:${seq}`;
}
