import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { availableParallelism } from "node:os";
import type { TransformOptions } from "node:stream";
import { createGunzip, type ZlibOptions } from "node:zlib";
import { AssayError } from "../lib/errors.js";
import type { BundleManifest, BundlePins } from "./bundle-format.js";
import { EventLinePool } from "./event-line-pool.js";
import { DEFAULT_LIMITS, type EvidenceLimits } from "./limits.js";
import { TarReader } from "./tar-reader.js";
import { type VerifyFailure, VerifyStop, type VerifyWarning } from "./verify-codes.js";
import { EventsChecker } from "./verify-events.js";
import { checkGzipHeader } from "./verify-gzip-header.js";
import { checkManifest } from "./verify-manifest.js";
import { checkMemberHeader } from "./verify-member.js";

/**
 * The outcome of verifying a bundle: valid with what it pins, or the first failure; either way
 * with the cosmetic differences noticed on the way (header bytes that change nothing verified).
 */
export type VerifyResult =
  | (BundlePins & { valid: true; producer: { name: string; version: string }; warnings: VerifyWarning[] })
  | { valid: false; failure: VerifyFailure; warnings: VerifyWarning[] };

export interface VerifyOptions {
  /**
   * Worker threads that check event lines beside the reading thread. Default: one when the
   * events file is at least PARALLEL_MIN_BYTES and the machine has two or more cores, else none.
   */
  workers?: number;
}

/** Below this, starting a worker costs more than it saves. */
const PARALLEL_MIN_BYTES = 8 * 1024 * 1024;

// Small reads keep the compression-ratio check tight: a bomb is caught within a few MiB of output.
const READ_CHUNK = 16 * 1024;
// Output pieces, and how much inflated output may wait: lets zlib (on the thread pool) run ahead
// while lines are checked, within a fixed bound.
const INFLATE_CHUNK = 64 * 1024;
const INFLATE_BUFFER = 1024 * 1024;

/**
 * Verify an evidence bundle in one streaming pass with bounded memory (see docs/evidence.md for
 * the order of checks). Throws `AssayError` only when the file cannot be read at all.
 */
export async function verifyBundle(
  path: string,
  limits: EvidenceLimits = DEFAULT_LIMITS,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  let fileBytes: number;
  const head = Buffer.alloc(10);
  let headBytes: number;
  const warnings: VerifyWarning[] = [];
  try {
    const fh = await open(path, "r");
    try {
      const st = await fh.stat();
      if (!st.isFile()) throw Object.assign(new Error("not a regular file"), { code: "ENOTFILE" });
      fileBytes = st.size;
      headBytes = (await fh.read(head, 0, 10, 0)).bytesRead;
    } finally {
      await fh.close();
    }
  } catch (err) {
    throw new AssayError(
      "input_unreadable",
      `cannot read bundle: ${(err as NodeJS.ErrnoException).code ?? err}`,
      {
        where: path,
        cause: err,
      },
    );
  }
  try {
    if (fileBytes > limits.maxCompressedBytes)
      throw new VerifyStop(
        "limit_compressed_size",
        `bundle is ${fileBytes} bytes, limit ${limits.maxCompressedBytes}`,
      );
    const gzipWarning = checkGzipHeader(head.subarray(0, headBytes), fileBytes);
    if (gzipWarning) warnings.push(gzipWarning);
    return await streamArchive(path, fileBytes, limits, options, warnings);
  } catch (err) {
    if (err instanceof VerifyStop) return { valid: false, failure: err.failure, warnings };
    throw err;
  }
}

async function streamArchive(
  path: string,
  fileBytes: number,
  limits: EvidenceLimits,
  options: VerifyOptions,
  warnings: VerifyWarning[],
): Promise<VerifyResult> {
  let compressed = 0;
  let decompressed = 0;
  let manifest: BundleManifest | undefined;
  let events: EventsChecker | undefined;
  let pool: EventLinePool | undefined;
  const manifestChunks: Buffer[] = [];
  const seen = new Set<string>();
  const tar = new TarReader({
    header(raw, index) {
      const size = checkMemberHeader(raw, index, seen, limits, warnings);
      if (index === 1) {
        if (!manifest) throw new VerifyStop("member_missing", "no manifest before the events");
        const declared = manifest.files["events.ndjson"].bytes;
        if (size !== declared)
          throw new VerifyStop(
            "events_size_mismatch",
            `events member is ${size} bytes, manifest says ${declared}`,
            "events.ndjson",
          );
        const workers =
          options.workers ?? (declared >= PARALLEL_MIN_BYTES && availableParallelism() >= 2 ? 1 : 0);
        if (workers > 0) pool = new EventLinePool(workers);
        events = new EventsChecker(manifest, limits, pool);
      }
      return size;
    },
    data(chunk) {
      if (events) events.data(chunk);
      else manifestChunks.push(Buffer.from(chunk));
    },
    memberEnd(index) {
      if (index === 0) manifest = checkManifest(Buffer.concat(manifestChunks), limits);
    },
  });

  const source = createReadStream(path, { highWaterMark: READ_CHUNK });
  // zlib streams hand their options to Transform; @types/node's ZlibOptions omits the stream ones.
  const gunzip = createGunzip({
    chunkSize: INFLATE_CHUNK,
    readableHighWaterMark: INFLATE_BUFFER,
  } as ZlibOptions & TransformOptions);
  source.on("data", (c) => {
    compressed += c.length;
  });
  source.on("error", (err) => gunzip.destroy(err));
  source.pipe(gunzip);
  try {
    try {
      for await (const chunk of gunzip as AsyncIterable<Buffer>) {
        decompressed += chunk.length;
        if (decompressed > limits.maxDecompressedBytes)
          throw new VerifyStop(
            "limit_decompressed_size",
            `archive expands beyond ${limits.maxDecompressedBytes} bytes`,
          );
        if (decompressed > limits.ratioFloorBytes && decompressed > limits.maxCompressionRatio * compressed)
          throw new VerifyStop(
            "limit_compression_ratio",
            `archive expands more than ${limits.maxCompressionRatio}:1 (${decompressed} bytes from ${compressed})`,
          );
        tar.push(chunk);
        if (events) await events.drain();
      }
    } catch (err) {
      if (err instanceof VerifyStop) throw err;
      const e = err as NodeJS.ErrnoException;
      if (e.code === "Z_BUF_ERROR") throw new VerifyStop("gzip_truncated", "gzip stream is cut short");
      if (typeof e.code === "string" && e.code.startsWith("Z_"))
        throw new VerifyStop("gzip_invalid", `gzip stream is corrupt: ${e.message}`);
      throw new AssayError("input_unreadable", `cannot read bundle: ${e.code ?? e.message}`, {
        where: path,
        cause: err,
      });
    }
    if (gunzip.bytesWritten !== fileBytes)
      throw new VerifyStop("gzip_invalid", "data after the end of the gzip stream");
    const members = tar.finish();
    if (members < 2 || !manifest || !events)
      throw new VerifyStop(
        "member_missing",
        `expected \`manifest.json\` and \`events.ndjson\`, found ${members} member(s)`,
      );
    const { eventCount, runRoot } = await events.finish();
    return {
      valid: true,
      bundle_id: manifest.bundle_id,
      run_id: manifest.run_id,
      event_count: eventCount,
      run_root: runRoot,
      events_sha256: manifest.files["events.ndjson"].sha256,
      events_bytes: manifest.files["events.ndjson"].bytes,
      producer: manifest.producer,
      warnings,
    };
  } finally {
    source.destroy();
    gunzip.destroy();
    await pool?.close();
  }
}
