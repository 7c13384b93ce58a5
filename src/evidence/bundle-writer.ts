import { isUtf8 } from "node:buffer";
import { createHash } from "node:crypto";
import { once } from "node:events";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rename, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { finished, pipeline } from "node:stream/promises";
import tarStream from "tar-stream";
import { isWrittenInPlace } from "../lib/atomic-write.js";
import { canonicalJson } from "../lib/canonical-json.js";
import { AssayError } from "../lib/errors.js";
import {
  type BundleEvent,
  type BundlePins,
  EVENTS_MEMBER,
  eventId,
  MANIFEST_MEMBER,
  PRODUCER,
  RunRoot,
} from "./bundle-format.js";
import { canonicalGzip } from "./canonical-gzip.js";
import { checkInputEvent, type InputEvent, isInputProblem } from "./input-event.js";
import { DEFAULT_LIMITS } from "./limits.js";
import { findLossyNumber, jsonPointerAt } from "./lossy-number.js";
import { buildManifest, manifestProblem } from "./manifest.js";
import { LineTooLong, readLines } from "./read-lines.js";
import { parseStrictJson, StrictJsonError } from "./strict-json.js";

export interface BundleOptions {
  /**
   * CloudEvents 1.0 NDJSON: any `type` and `data` (a gate decision log, soak trials, ...); gate
   * records are also checked against schemas/decision-event.schema.json (docs/evidence.md).
   */
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
 * Write an evidence bundle from CloudEvents NDJSON: the file is read twice (hashes first, so
 * the run root and a derived run id are known before any event is written), events go to a
 * temporary file, and the `.tar.gz` is written to a temporary name and renamed into place.
 * Input that cannot be read twice (a pipe, `/dev/stdin`, a FIFO) is copied to a temporary file as
 * it is first read; a file that changes between the two reads (a log still being written) is
 * refused.
 */
export async function writeBundle(opts: BundleOptions): Promise<BundleSummary> {
  if (opts.runId !== undefined && !RUN_ID.test(opts.runId))
    throw new AssayError(
      "usage",
      `run id \`${opts.runId}\` must be 1-256 printable ASCII characters without spaces`,
    );
  // A device or FIFO (`--out /dev/stdout`) is written to; anything else through a temporary name.
  const tmpOut = (await isWrittenInPlace(opts.out)) ? undefined : `${opts.out}.${process.pid}.tmp`;
  const dir = await mkdtemp(join(tmpdir(), "assay-bundle-"));
  try {
    // Input that can be read only once (a pipe, `/dev/stdin`, a FIFO) is copied as it is read.
    const info = await stat(opts.events).catch(() => undefined);
    const copy = info === undefined || info.isFile() ? undefined : join(dir, "input.ndjson");
    const input = copy ?? opts.events;
    const { root: runRoot, count } = await tally(
      readEvents(copy ? copiedWhileRead(opts.events, copy) : input, opts.events),
    );
    const runId = opts.runId ?? `run-${runRoot.slice("sha256:".length, "sha256:".length + 16)}`;

    const eventsPath = join(dir, EVENTS_MEMBER);
    const again = new RunRoot();
    const sha = createHash("sha256");
    let bytes = 0;
    let seq = 0;
    const out = createWriteStream(eventsPath);
    await pipeline(async function* () {
      for await (const { event } of readEvents(input, opts.events)) {
        again.add(event.contentHash);
        const line = Buffer.from(`${canonicalJson(bundleEvent(event, runId, seq++))}\n`, "utf8");
        sha.update(line);
        bytes += line.length;
        yield line;
      }
    }, out);
    // The manifest's count and run root come from the first read: the second must be the same events.
    if (seq !== count || again.digest() !== runRoot)
      throw new AssayError(
        "input_invalid",
        `the events changed while they were read (${count} events, then ${seq}): bundle a copy no one is writing to`,
        { where: opts.events },
      );
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
    const file = createWriteStream(tmpOut ?? opts.out);
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
    if (tmpOut !== undefined) await rename(tmpOut, opts.out);
    const size = tmpOut === undefined ? file.bytesWritten : (await stat(opts.out)).size;
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
    if (tmpOut !== undefined) await rm(tmpOut, { force: true }).catch(() => {});
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

function bundleEvent(input: InputEvent, runId: string, seq: number): BundleEvent {
  // The same members, in the same order, as the gate's own records: one object shape.
  const event: BundleEvent = {
    specversion: "1.0",
    id: eventId(runId, seq),
    source: input.source,
    type: input.type,
    ...(input.time === undefined ? {} : { time: input.time }),
    datacontenttype: input.datacontenttype,
    ...(input.subject === undefined ? {} : { subject: input.subject }),
    data: input.data,
    assayrunid: runId,
    assayseq: seq,
    assaycontenthash: input.contentHash,
    assayproducer: PRODUCER.name,
    assayproducerversion: PRODUCER.version,
  };
  if (input.extensions) Object.assign(event, input.extensions);
  return event;
}

/** The count and run root of a pass over the events. */
async function tally(events: AsyncIterable<{ event: InputEvent }>): Promise<{ count: number; root: string }> {
  const root = new RunRoot();
  let count = 0;
  for await (const { event } of events) {
    root.add(event.contentHash);
    count++;
  }
  return { count, root: root.digest() };
}

/**
 * The bytes of `path` as they are read, each also written to `copy`: the second read of input
 * that can be read only once goes to the copy. Stops (and so copies no more) as soon as the
 * reader does, at the first line it refuses.
 */
async function* copiedWhileRead(path: string, copy: string): AsyncGenerator<Buffer> {
  const out = createWriteStream(copy);
  // Seen through `once` and `finished` below, which reject with it.
  out.on("error", () => {});
  try {
    for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) {
      if (!out.write(chunk)) await once(out, "drain");
      yield chunk;
    }
    out.end();
    await finished(out);
  } catch (err) {
    if (!out.errored) throw err;
    throw new AssayError(
      "output_unwritable",
      `cannot copy the events to a temporary file: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { where: copy, cause: err },
    );
  } finally {
    out.destroy();
  }
}

/**
 * Every event of a CloudEvents NDJSON file (a path, or its bytes as they are read), strictly
 * parsed and checked (input-event.ts); `shown` names the file in errors.
 */
async function* readEvents(
  source: string | AsyncIterable<Buffer>,
  shown: string,
): AsyncGenerator<{ event: InputEvent; line: number }> {
  const limit = DEFAULT_LIMITS.maxLineBytes;
  try {
    for await (const { text: bytes, line } of readLines(source, limit)) {
      const where = `${shown}:${line}`;
      if (bytes.length === 0)
        throw new AssayError("input_invalid", "blank line in the events file", { where });
      if (!isUtf8(bytes)) throw new AssayError("input_invalid", "line is not valid UTF-8", { where });
      const text = bytes.toString("utf8");
      let value: unknown;
      try {
        value = parseStrictJson(text, { maxDepth: DEFAULT_LIMITS.maxDepth });
      } catch (err) {
        if (!(err instanceof StrictJsonError)) throw err;
        const at = err.code === "json_unsafe_number" ? ` at \`${jsonPointerAt(text, err.offset)}\`` : "";
        throw new AssayError(err.code, `${err.message}${at}`, { where: `${where}:${err.column}` });
      }
      const lossy = findLossyNumber(text);
      if (lossy)
        throw new AssayError(
          "json_unsafe_number",
          `number \`${lossy.token}\` at \`${lossy.pointer}\` would be bundled as \`${lossy.reads}\`: a double cannot hold it exactly`,
          { where: `${where}:${columnOf(text, lossy.offset)}` },
        );
      const event = checkInputEvent(value);
      if (isInputProblem(event))
        throw new AssayError(
          "input_invalid",
          event.pointer === "" ? event.message : `\`${event.pointer}\`: ${event.message}`,
          { where },
        );
      yield { event, line };
    }
  } catch (err) {
    if (err instanceof AssayError) throw err;
    if (err instanceof LineTooLong)
      throw new AssayError("input_invalid", `line longer than ${err.limit} bytes`, {
        where: `${shown}:${err.line}`,
      });
    throw new AssayError(
      "input_unreadable",
      `cannot read events: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      { where: shown, cause: err },
    );
  }
}

/** 1-based column of `offset` in a one-line text (UTF-16 units, as the strict parser counts). */
function columnOf(text: string, offset: number): number {
  return offset - text.lastIndexOf("\n", offset - 1);
}
