import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { join, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import { AssayError } from "../../lib/errors.js";
import { readArchive } from "../../runner/archive-read.js";
import { ARCHIVE_FILES, type ArchiveFile } from "../../runner/contract.js";
import { artifactInvalid } from "./fault.js";
import { MAX_ARTIFACT_BYTES, sha256Of, tooLarge } from "./file-bytes.js";
import type { ArtifactBody } from "./json-artifact.js";

/**
 * Why a capture has no time: the runner's v0 format records none. `events.ndjson` bounds the run
 * with `window_elapsed_ms` (elapsed, not wall-clock), the manifest and the three documents hold
 * none, the run id is random, and the tarball's entries all carry mtime 0 (contract §2).
 */
export const RUNNER_ARCHIVE_NO_TIME =
  "a runner v0 capture records no wall-clock time: `events.ndjson` has only elapsed `window_elapsed_ms`, the manifest and documents have no time field, and tarball entries carry mtime 0; record `assay runner capture --json` with `assay matrix record --kind runner_archive` to give it one";

/**
 * The digest of a capture directory: its 8 files (ARCHIVE_FILES; anything else in the directory is
 * not part of the capture) listed as `sha256sum` lists them, `<hex>  <relative path>\n`, in byte
 * order of the paths, then that listing's sha256. So `sha256sum <the 8 paths, sorted> | sha256sum`
 * run inside the directory gives the same hex, and a directory and its tarball differ (the tarball
 * is hashed as a file).
 */
export function captureListingDigest(files: Readonly<Record<ArchiveFile, Uint8Array>>): string {
  const names = [...ARCHIVE_FILES].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const listing = names.map((n) => `${createHash("sha256").update(files[n]).digest("hex")}  ${n}\n`).join("");
  return sha256Of(listing);
}

async function fileDigest(absPath: string): Promise<string> {
  const h = createHash("sha256");
  await pipeline(createReadStream(absPath), h);
  return `sha256:${h.digest("hex")}`;
}

// The bytes a capture holds: the tarball's size, or its directory's 8 files together.
async function captureBytes(absPath: string, isDirectory: boolean): Promise<number> {
  if (!isDirectory) return (await stat(absPath)).size;
  let total = 0;
  // A missing file is readArchive's to report, with its own message.
  for (const name of ARCHIVE_FILES)
    total += (await stat(join(absPath, name)).catch(() => ({ size: 0 }))).size;
  return total;
}

// readArchive's errors name the path it was given: show the display path instead.
function relocated(err: AssayError, absPath: string, path: string): AssayError {
  const where = err.where?.startsWith(absPath)
    ? `${path}${err.where.slice(absPath.length).split(sep).join("/")}`
    : path;
  return artifactInvalid(err.message, where, err);
}

/**
 * A runner v0 capture (a `.tar.gz` or a directory), read and checked by the runner's own reader:
 * criteria see its manifest and its three evidence documents.
 */
export async function readRunnerArchive(
  absPath: string,
  path: string,
): Promise<ArtifactBody & { sha256: string }> {
  let isDirectory: boolean;
  let bytes: number;
  try {
    isDirectory = (await stat(absPath)).isDirectory();
    bytes = await captureBytes(absPath, isDirectory);
  } catch (err) {
    throw artifactInvalid(`cannot read: ${(err as NodeJS.ErrnoException).code ?? err}`, path, err);
  }
  if (bytes > MAX_ARTIFACT_BYTES) throw tooLarge(path, bytes);
  let capture: Awaited<ReturnType<typeof readArchive>>;
  try {
    capture = await readArchive(absPath);
  } catch (err) {
    if (err instanceof AssayError) throw relocated(err, absPath, path);
    throw err;
  }
  return {
    sha256: isDirectory ? captureListingDigest(capture.files) : await fileDigest(absPath),
    timestamp: null,
    timestamp_source: RUNNER_ARCHIVE_NO_TIME,
    data: {
      manifest: capture.manifest,
      observation_health: capture.health,
      capability_surface: capture.surface,
      correlation_report: capture.correlation,
    },
    recorded: null,
  };
}
