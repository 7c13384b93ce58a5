/**
 * Evidence bundle benchmark: `npm run bench:evidence [-- --json]`.
 *
 * What is measured, on this machine, against the shipped build (tsc → dist/; the npm script
 * builds it first):
 *
 * A decision log that bundles to ~100 MB of events (synthetic gate records, ~1.1 KB each, every
 * record different) is bundled once with dist/evidence/bundle-writer.js. Then, in alternating rounds, two plain `node`
 * child processes (no tsx: its loader adds ~35 MB of RSS) read the same bundle:
 *
 * - verify: `verifyBundle()` from dist/evidence/verify-bundle.js, exactly what
 *   `assay evidence verify` runs. It must come out valid, or the benchmark stops.
 * - floor: the least work any verifier must do over the same bytes: one sha256 of the file,
 *   gunzip, and JSON.parse of every line of the tar stream's events (lines split on `\n` over
 *   the decompressed stream; the few tar header bytes are parsed along, and their parse errors
 *   ignored).
 *
 * Hostile archives, each in a fresh child timed the same way: a 10 GiB gzip bomb (160 valid gzip
 * members of 64 MiB of zeros) and a tar whose events header declares 10 GiB. `hostile_*_ms` and
 * `hostile_*_rss_mb` are medians over the rounds; both must be refused with their limit codes.
 *
 * Each child times itself with process.hrtime.bigint() from the first read to the result (module
 * import outside), and reports process.resourceUsage().maxRSS (KiB; MB here means 2^20 bytes).
 * Figures are medians over ROUNDS rounds. `verify_mb_per_s` and `floor_mb_per_s` are
 * decompressed events bytes (10^6 bytes per MB) per second; `ratio_to_floor` is the median of the
 * rounds' verify ÷ floor (each round's pair ran back to back, so load on this shared machine hits
 * both); `peak_rss_mb` is the verify child's high-water mark. Targets (ratio ≥ 0.5, peak ≤ 200 MB) are
 * printed next to the figures, never asserted. With `--json` the last stdout line is one JSON
 * object with the headline numbers.
 */

import { spawnSync } from "node:child_process";
import { createWriteStream, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { crc32, deflateRawSync } from "node:zlib";
import { GZIP_HEADER } from "../src/evidence/canonical-gzip.js";

const ROUNDS = 5;
const TARGET_EVENT_BYTES = 100 * 1000 * 1000;
const json = process.argv.includes("--json");
const dist = (p: string) => pathToFileURL(join(process.cwd(), "dist", p)).href;

const VERIFY_CHILD = `
const { verifyBundle } = await import(${JSON.stringify(dist("evidence/verify-bundle.js"))});
const t0 = process.hrtime.bigint();
const r = await verifyBundle(process.argv[1]);
const ns = Number(process.hrtime.bigint() - t0);
process.stdout.write(JSON.stringify({ ns, valid: r.valid, failure: r.valid ? undefined : r.failure, maxrss_kib: process.resourceUsage().maxRSS }));
`;

const FLOOR_CHILD = `
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { createGunzip } from "node:zlib";
const t0 = process.hrtime.bigint();
const sha = createHash("sha256");
const src = createReadStream(process.argv[1]);
src.on("data", (c) => sha.update(c));
let tail = "";
let lines = 0;
for await (const chunk of src.pipe(createGunzip())) {
  const parts = (tail + chunk.toString("utf8")).split("\\n");
  tail = parts.pop();
  for (const line of parts) {
    try { JSON.parse(line); lines++; } catch {}
  }
}
const digest = sha.digest("hex");
const ns = Number(process.hrtime.bigint() - t0);
process.stdout.write(JSON.stringify({ ns, lines, digest, maxrss_kib: process.resourceUsage().maxRSS }));
`;

interface ChildResult {
  ns: number;
  maxrss_kib: number;
  valid?: boolean;
  failure?: unknown;
  lines?: number;
}

function child(script: string, bundle: string): ChildResult {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script, bundle], {
    encoding: "utf8",
    maxBuffer: 1 << 20,
  });
  if (r.status !== 0) throw new Error(`benchmark child failed: ${r.stderr}`);
  return JSON.parse(r.stdout) as ChildResult;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? Number.NaN;
}

async function writeLog(path: string): Promise<number> {
  const { decisionRecord } = await import("../test/evidence/helpers.js");
  const out = createWriteStream(path);
  let bytes = 0;
  // Each record ~1 KB once bundled: a varied message pads it.
  for (let i = 0; bytes < TARGET_EVENT_BYTES * 0.8; i++) {
    const pad = ` ${(i * 2654435761).toString(36)}`.repeat(24);
    const line = `${JSON.stringify(decisionRecord(i, pad))}\n`;
    bytes += line.length;
    if (!out.write(line)) await new Promise<void>((r) => out.once("drain", () => r()));
  }
  await new Promise<void>((r, j) => out.end((err?: Error | null) => (err ? j(err) : r())));
  return bytes;
}

function gzipBomb(): Buffer {
  const zeros = Buffer.alloc(64 * 2 ** 20);
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(zeros), 0);
  trailer.writeUInt32LE(zeros.length, 4);
  const one = Buffer.concat([GZIP_HEADER, deflateRawSync(zeros), trailer]);
  return Buffer.concat(Array.from({ length: 160 }, () => one));
}

async function hugeHeaderBundle(): Promise<Buffer> {
  const { contentsOf, goodLines, gzipOf, member, tarOf } = await import("../test/evidence/craft.js");
  const huge = (h: Buffer) => h.write((10 * 2 ** 30).toString(8).padStart(12, "0"), 124, "ascii");
  const good = contentsOf(goodLines(3));
  return gzipOf(tarOf(member("manifest.json", good.manifest), member("events.ndjson", "", huge)));
}

function hostile(path: string, code: string): ChildResult {
  const r = child(VERIFY_CHILD, path);
  const failure = r.failure as { code?: string } | undefined;
  if (r.valid !== false || failure?.code !== code)
    throw new Error(`${path}: expected ${code}, got ${JSON.stringify(r.failure ?? "valid")}`);
  return r;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "assay-bench-evidence-"));
  try {
    const log = join(dir, "decisions.ndjson");
    const bundle = join(dir, "bundle.tar.gz");
    const logBytes = await writeLog(log);
    const { writeBundle } = (await import(
      dist("evidence/bundle-writer.js")
    )) as typeof import("../src/evidence/bundle-writer.js");
    const t0 = process.hrtime.bigint();
    const summary = await writeBundle({ events: log, out: bundle });
    const bundleSec = Number(process.hrtime.bigint() - t0) / 1e9;
    const mb = summary.events_bytes / 1e6;
    const verify: ChildResult[] = [];
    const floor: ChildResult[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const v = child(VERIFY_CHILD, bundle);
      if (!v.valid) throw new Error(`bundle did not verify: ${JSON.stringify(v.failure)}`);
      verify.push(v);
      const f = child(FLOOR_CHILD, bundle);
      // The first event line shares its "line" with the tar headers and the manifest: not JSON.
      if (f.lines !== summary.event_count - 1)
        throw new Error(`floor parsed ${f.lines} lines, expected ${summary.event_count - 1}`);
      floor.push(f);
    }
    const bombPath = join(dir, "bomb.tar.gz");
    writeFileSync(bombPath, gzipBomb());
    const headerPath = join(dir, "huge-header.tar.gz");
    writeFileSync(headerPath, await hugeHeaderBundle());
    const bomb: ChildResult[] = [];
    const header: ChildResult[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      bomb.push(hostile(bombPath, "limit_compression_ratio"));
      header.push(hostile(headerPath, "limit_member_size"));
    }
    const verifyMbps = mb / (median(verify.map((r) => r.ns)) / 1e9);
    const floorMbps = mb / (median(floor.map((r) => r.ns)) / 1e9);
    const peak = median(verify.map((r) => r.maxrss_kib)) / 1024;
    const result = {
      events_mb: Number(mb.toFixed(1)),
      bundle_mb: Number((statSync(bundle).size / 1e6).toFixed(1)),
      event_count: summary.event_count,
      verify_mb_per_s: Number(verifyMbps.toFixed(1)),
      floor_mb_per_s: Number(floorMbps.toFixed(1)),
      ratio_to_floor: Number(median(verify.map((v, i) => (floor[i]?.ns ?? Number.NaN) / v.ns)).toFixed(3)),
      peak_rss_mb: Number(peak.toFixed(1)),
      floor_peak_rss_mb: Number((median(floor.map((r) => r.maxrss_kib)) / 1024).toFixed(1)),
      bundle_mb_per_s: Number((mb / bundleSec).toFixed(1)),
      hostile_bomb_ms: Number((median(bomb.map((r) => r.ns)) / 1e6).toFixed(1)),
      hostile_bomb_rss_mb: Number((median(bomb.map((r) => r.maxrss_kib)) / 1024).toFixed(1)),
      hostile_header_ms: Number((median(header.map((r) => r.ns)) / 1e6).toFixed(1)),
      hostile_header_rss_mb: Number((median(header.map((r) => r.maxrss_kib)) / 1024).toFixed(1)),
      rounds: ROUNDS,
    };
    console.log(
      `decision log ${(logBytes / 1e6).toFixed(1)} MB → events ${result.events_mb} MB (${result.event_count} events), bundle ${result.bundle_mb} MB`,
    );
    console.log(`bundle (write)   ${result.bundle_mb_per_s} MB/s`);
    console.log(
      `verify           ${result.verify_mb_per_s} MB/s   peak RSS ${result.peak_rss_mb} MB (target ≤ 200)`,
    );
    console.log(`floor            ${result.floor_mb_per_s} MB/s   peak RSS ${result.floor_peak_rss_mb} MB`);
    console.log(`ratio to floor   ${result.ratio_to_floor} (target ≥ 0.5)`);
    console.log(
      `hostile          10 GiB gzip bomb refused in ${result.hostile_bomb_ms} ms (peak RSS ${result.hostile_bomb_rss_mb} MB); ` +
        `10 GiB tar header refused in ${result.hostile_header_ms} ms (peak RSS ${result.hostile_header_rss_mb} MB)`,
    );
    if (json) console.log(JSON.stringify(result));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
