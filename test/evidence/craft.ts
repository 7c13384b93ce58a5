import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { crc32, deflateRawSync } from "node:zlib";
import { contentHash, PRODUCER } from "../../src/evidence/bundle-format.js";
import { GZIP_HEADER } from "../../src/evidence/canonical-gzip.js";
import { buildManifest } from "../../src/evidence/manifest.js";
import { canonicalHeaders } from "../../src/evidence/tar-header.js";
import { canonicalJson } from "../../src/lib/canonical-json.js";
import { decisionRecord } from "./helpers.js";

// Hand-made archives for the verifier's hostile and contract cases: every byte is chosen here.

/** A tar member: canonical header (or `edit` applied to it, checksum recomputed), body, zero padding. */
export function member(
  name: string,
  body: Buffer | string,
  edit?: (h: Buffer) => void,
  declared?: number,
): Buffer {
  const data = Buffer.isBuffer(body) ? body : Buffer.from(body, "utf8");
  const h = canonicalHeaders(name.length > 100 ? "x" : name, declared ?? data.length)[0];
  if (name.length > 100) {
    h.fill(0, 0, 100);
    h.write(name.slice(0, 100), 0, "latin1");
  }
  if (edit) {
    edit(h);
    fixChecksum(h);
  }
  const pad = Buffer.alloc((512 - (data.length % 512)) % 512);
  return Buffer.concat([h, data, pad]);
}

export function fixChecksum(h: Buffer): void {
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.fill(0, 148, 156);
  h.write(`${sum.toString(8).padStart(6, "0")} `, 148, "ascii");
}

/** A tar stream: members then the two zero blocks. */
export function tarOf(...members: Buffer[]): Buffer {
  return Buffer.concat([...members, Buffer.alloc(1024)]);
}

/** gzip with the canonical header (what the bundle writer produces). */
export function gzipOf(data: Buffer): Buffer {
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data) >>> 0, 0);
  trailer.writeUInt32LE(data.length >>> 0, 4);
  return Buffer.concat([GZIP_HEADER, deflateRawSync(data), trailer]);
}

/** A bundle event as the writer makes it, from decision record `i`. */
export function bundleEvent(i: number, runId = "run-t", seq = i): Record<string, unknown> {
  const r = decisionRecord(i);
  return {
    ...r,
    id: `${runId}:${seq}`,
    assayrunid: runId,
    assayseq: seq,
    assaycontenthash: contentHash(r as Parameters<typeof contentHash>[0]),
    assayproducer: PRODUCER.name,
    assayproducerversion: PRODUCER.version,
  };
}

/**
 * The `manifest.json` and `events.ndjson` bytes of a bundle whose manifest agrees with the given
 * lines (hash, size, count, run root over the claimed content hashes), then `edit`ed.
 */
export function contentsOf(
  lines: string,
  edit: (m: Record<string, unknown>) => void = () => {},
  runId = "run-t",
): { manifest: Buffer; events: Buffer } {
  const events = Buffer.from(lines, "utf8");
  const root = createHash("sha256");
  let count = 0;
  for (const line of lines.split("\n")) {
    if (line === "") continue;
    count++;
    try {
      root.update(`${(JSON.parse(line) as { assaycontenthash: string }).assaycontenthash}\n`);
    } catch {}
  }
  const runRoot = `sha256:${root.digest("hex")}`;
  const m = buildManifest({
    runId,
    eventCount: count,
    runRoot,
    eventsSha256: `sha256:${createHash("sha256").update(events).digest("hex")}`,
    eventsBytes: events.length,
  }) as unknown as Record<string, unknown>;
  edit(m);
  return { manifest: Buffer.from(canonicalJson(m), "utf8"), events };
}

/** Canonical lines of `n` good events. */
export function goodLines(n: number, runId = "run-t"): string {
  let out = "";
  for (let i = 0; i < n; i++) out += `${canonicalJson(bundleEvent(i, runId))}\n`;
  return out;
}

/** A complete bundle from lines (manifest made to agree unless `edit` says otherwise). */
export function bundleOf(lines: string, edit?: (m: Record<string, unknown>) => void): Buffer {
  const { manifest, events } = contentsOf(lines, edit);
  return gzipOf(tarOf(member("manifest.json", manifest), member("events.ndjson", events)));
}

export function save(dir: string, name: string, bytes: Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}
