import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import tarStream from "tar-stream";
import { canonicalJson } from "../lib/canonical-json.js";
import { AssayError } from "../lib/errors.js";
import { decisionEventProblem } from "../records/decision-record.js";
import {
  type BundleEvent,
  type BundlePins,
  contentHash,
  EVENTS_MEMBER,
  eventId,
  MANIFEST_MEMBER,
  PRODUCER,
  RunRoot,
} from "./bundle-format.js";
import { canonicalGzip } from "./canonical-gzip.js";
import { DEFAULT_LIMITS } from "./limits.js";
import { buildManifest, manifestProblem } from "./manifest.js";
import { LineTooLong, readLines } from "./read-lines.js";
import { parseStrictJson, StrictJsonError } from "./strict-json.js";

export interface BundleOptions {
  /** The gate's decision log (NDJSON, schemas/decision-event.schema.json). */
  events: string;
  out: string;
  /** Default: `run-` + the first 16 hex digits of the run root (see docs/evidence.md). */
  runId?: string;
}

export interface BundleSummary extends BundlePins {
  /** The size of the written .tar.gz. */
  bytes: number;
}

const RUN_ID = /^[\x21-\x7e]{1,256}$/;

/**
 * Write an evidence bundle from a gate decision log: the log is read twice (hashes first, so
 * the run root and a derived run id are known before any event is written), events go to a
 * temporary file, and the `.tar.gz` is written to a temporary name and renamed into place.
 */
export async function writeBundle(opts: BundleOptions): Promise<BundleSummary> {
  if (opts.runId !== undefined && !RUN_ID.test(opts.runId))
    throw new AssayError(
      "usage",
      `run id \`${opts.runId}\` must be 1-256 printable ASCII characters without spaces`,
    );
  const root = new RunRoot();
  let count = 0;
  for await (const rec of readRecords(opts.events)) {
    root.add(contentHash(rec.record));
    count++;
  }
  const runRoot = root.digest();
  const runId = opts.runId ?? `run-${runRoot.slice("sha256:".length, "sha256:".length + 16)}`;

  const dir = await mkdtemp(join(tmpdir(), "assay-bundle-"));
  const tmpOut = `${opts.out}.${process.pid}.tmp`;
  try {
    const eventsPath = join(dir, EVENTS_MEMBER);
    const sha = createHash("sha256");
    let bytes = 0;
    let seq = 0;
    const out = createWriteStream(eventsPath);
    await pipeline(async function* () {
      for await (const { record } of readRecords(opts.events)) {
        const line = Buffer.from(`${canonicalJson(bundleEvent(record, runId, seq++))}\n`, "utf8");
        sha.update(line);
        bytes += line.length;
        yield line;
      }
    }, out);
    const manifest = buildManifest({
      runId,
      eventCount: count,
      runRoot,
      eventsSha256: `sha256:${sha.digest("hex")}`,
      eventsBytes: bytes,
    });
    const problem = manifestProblem(manifest);
    if (problem) throw new AssayError("internal", `bundle manifest ${problem.pointer} ${problem.message}`);
    const manifestBytes = Buffer.from(canonicalJson(manifest), "utf8");

    const pack = tarStream.pack();
    const header = (name: string, size: number) => ({
      name,
      size,
      mode: 0o644,
      uid: 0,
      gid: 0,
      uname: "",
      gname: "",
      mtime: new Date(0),
      type: "file" as const,
    });
    const file = createWriteStream(tmpOut);
    await new Promise<void>((resolve, reject) => {
      file.once("open", () => resolve());
      file.once("error", reject);
    });
    const written = pipeline(pack, canonicalGzip(), file);
    pack.entry(header(MANIFEST_MEMBER, manifestBytes.length), manifestBytes);
    const entry = pack.entry(header(EVENTS_MEMBER, bytes));
    // Whichever fails first (reading the events, writing the file) ends the write.
    await Promise.race([pipeline(createReadStream(eventsPath), entry), written]);
    pack.finalize();
    await written;
    await rename(tmpOut, opts.out);
    const size = (await stat(opts.out)).size;
    return {
      bundle_id: manifest.bundle_id,
      run_id: runId,
      event_count: count,
      run_root: runRoot,
      events_sha256: manifest.files[EVENTS_MEMBER].sha256,
      events_bytes: bytes,
      bytes: size,
    };
  } catch (err) {
    await rm(tmpOut, { force: true }).catch(() => {});
    if (err instanceof AssayError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    throw new AssayError("output_unwritable", `cannot write bundle: ${code ?? (err as Error).message}`, {
      where: opts.out,
      cause: err,
    });
  } finally {
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

interface InputRecord {
  specversion: string;
  type: string;
  source: string;
  time: string;
  datacontenttype: string;
  subject?: string;
  data: unknown;
}

function bundleEvent(r: InputRecord, runId: string, seq: number): BundleEvent {
  return {
    specversion: "1.0",
    id: eventId(runId, seq),
    source: r.source,
    type: r.type,
    time: r.time,
    datacontenttype: r.datacontenttype,
    ...(r.subject === undefined ? {} : { subject: r.subject }),
    data: r.data,
    assayrunid: runId,
    assayseq: seq,
    assaycontenthash: contentHash(r),
    assayproducer: PRODUCER.name,
    assayproducerversion: PRODUCER.version,
  };
}

/** Every record of a decision log, strictly parsed and checked against its schema. */
async function* readRecords(path: string): AsyncGenerator<{ record: InputRecord; line: number }> {
  const limit = DEFAULT_LIMITS.maxLineBytes;
  try {
    for await (const { text, line } of readLines(path, limit)) {
      const where = `${path}:${line}`;
      if (text.length === 0)
        throw new AssayError("input_invalid", "blank line in the decision log", { where });
      if (!isUtf8(text)) throw new AssayError("input_invalid", "line is not valid UTF-8", { where });
      let record: unknown;
      try {
        record = parseStrictJson(text.toString("utf8"), { maxDepth: DEFAULT_LIMITS.maxDepth });
      } catch (err) {
        if (err instanceof StrictJsonError)
          throw new AssayError(err.code, `decision log record: ${err.message}`, {
            where: `${path}:${line}:${err.column}`,
          });
        throw err;
      }
      const problem = decisionEventProblem(record);
      if (problem) throw new AssayError("input_invalid", `not a decision log record: ${problem}`, { where });
      yield { record: record as InputRecord, line };
    }
  } catch (err) {
    if (err instanceof AssayError) throw err;
    if (err instanceof LineTooLong)
      throw new AssayError("input_invalid", `line longer than ${err.limit} bytes`, {
        where: `${path}:${err.line}`,
      });
    throw new AssayError(
      "input_unreadable",
      `cannot read decision log: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { where: path, cause: err },
    );
  }
}
