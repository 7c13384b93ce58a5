import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { link, mkdir, open, readdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { AssayError } from "../lib/errors.js";
import { schemaValidator } from "../lib/schema-validator.js";
import type { ValidatorName } from "../lib/validator-specs.js";
import { gnuHeader, gzipBest, TAR_END, tarPadding } from "./archive-tar.js";
import {
  ARCHIVE_FILES,
  type ArchiveFile,
  type ArchiveManifest,
  type CapabilitySurface,
  type CorrelationReport,
  type ObservationHealth,
  RUNNER_SCHEMA,
  SURFACE_CATEGORIES,
} from "./contract.js";
import { artifactJson, byteSort, compareUtf8 } from "./serialize.js";

export { type ArchiveContents, readArchive } from "./archive-read.js";

/** A layer's bytes: text, bytes, or a file on disk (streamed, never read whole: a kernel layer can be 100+ MB). */
export type FileContent = string | Uint8Array | { path: string };

/** What a capture archive holds besides its manifest, keyed by archive path (contract §2). */
export interface CaptureFiles {
  "capability-surface.json": CapabilitySurface;
  "correlation-report.json": CorrelationReport;
  "events.ndjson": FileContent;
  "layers/kernel.ndjson": FileContent;
  "layers/policy.ndjson": FileContent;
  "layers/sdk.ndjson": FileContent;
  "observation-health.json": ObservationHealth;
}

export interface WriteArchiveOptions {
  /** Default: `tar.gz` when the output ends in `.tar.gz` or `.tgz`, else a directory. */
  format?: "tar.gz" | "dir";
  /** Replace an existing tarball (default false). A directory is never written over one that has files. */
  overwrite?: boolean;
}

/** One file of the archive, digested; its bytes in memory, or the file they are streamed from. */
interface Entry {
  name: ArchiveFile;
  sha256: string;
  bytes: number;
  data?: Buffer;
  source?: string;
}

/**
 * Write a capture's 8 files (contract §2) as a directory (`<out>/manifest.json`,
 * `<out>/layers/kernel.ndjson`, ...) or a deterministic `.tar.gz` (GNU headers, mode 0644,
 * uid/gid 0, mtime 0, owner `assay`, entries in `ARCHIVE_FILES` order, gzip level 9, mtime 0, OS
 * 255). Nothing is written unless the three documents and the manifest match their schemas and
 * share one run id (`runner_contract_invalid`); the tarball goes to a temporary file and the
 * directory to a temporary sibling, each renamed into place. Returns the manifest written.
 */
export async function writeArchive(
  out: string,
  files: CaptureFiles,
  opts: WriteArchiveOptions = {},
): Promise<ArchiveManifest> {
  const runId = checkDocuments(files);
  const entries = await digestEntries(files);
  const manifest = buildManifest(runId, entries);
  check("manifest.json", "runner-archive-manifest", manifest);
  const manifestBytes = Buffer.from(artifactJson(manifest), "utf8");
  const all: Entry[] = [
    {
      name: "manifest.json",
      sha256: sha256Of(manifestBytes),
      bytes: manifestBytes.length,
      data: manifestBytes,
    },
    ...entries,
  ];
  const format = opts.format ?? formatOf(out);
  if (format === "dir") await writeDirectory(out, all);
  else await writeTarball(out, all, opts.overwrite === true);
  return manifest;
}

/**
 * The manifest of an archive's files (every one but the manifest): keyed by path in UTF-8 byte
 * order, each `{path, sha256: "sha256:<hex>", bytes}` of the stored bytes.
 */
export function buildManifest(
  runId: string,
  files: Iterable<{ name: string; sha256: string; bytes: number }>,
): ArchiveManifest {
  const byName = new Map([...files].map((f) => [f.name, f]));
  const out: ArchiveManifest["files"] = {};
  for (const name of byteSort(byName.keys())) {
    const f = byName.get(name) as { sha256: string; bytes: number };
    out[name] = { path: name, sha256: f.sha256, bytes: f.bytes };
  }
  return { schema: RUNNER_SCHEMA.archiveManifest, run_id: runId, files: out };
}

/** Check the three documents against their schemas, the surface's order and their run ids; returns the run id. */
function checkDocuments(files: CaptureFiles): string {
  const health = files["observation-health.json"];
  const surface = files["capability-surface.json"];
  const correlation = files["correlation-report.json"];
  check("observation-health.json", "runner-observation-health", health);
  check("capability-surface.json", "runner-capability-surface", surface);
  check("correlation-report.json", "runner-correlation-report", correlation);
  for (const c of SURFACE_CATEGORIES) {
    const list = surface[c];
    for (let i = 1; i < list.length; i++)
      if (compareUtf8(list[i - 1] as string, list[i] as string) >= 0)
        throw contractError("capability-surface.json", `\`/${c}/${i}\` is out of UTF-8 byte order`);
  }
  for (const [name, doc] of [
    ["capability-surface.json", surface],
    ["correlation-report.json", correlation],
  ] as const)
    if (doc.run_id !== health.run_id)
      throw contractError(
        name,
        `run_id \`${doc.run_id}\` differs from observation-health.json's \`${health.run_id}\``,
      );
  return health.run_id;
}

function check(name: ArchiveFile, validator: ValidatorName, doc: unknown): void {
  const validate = schemaValidator(validator);
  if (validate(doc)) return;
  const e = validate.errors?.[0];
  throw contractError(name, `\`${e?.instancePath || "/"}\` ${e?.message ?? "is invalid"}`);
}

function contractError(name: string, message: string): AssayError {
  return new AssayError("runner_contract_invalid", `${name} does not meet the runner contract: ${message}`, {
    where: name,
  });
}

/** Every file but the manifest, serialized or digested where it lies (a first, read-only pass). */
async function digestEntries(files: CaptureFiles): Promise<Entry[]> {
  const entries: Entry[] = [];
  for (const name of ARCHIVE_FILES.slice(1) as Exclude<ArchiveFile, "manifest.json">[]) {
    const content = files[name];
    if (name.endsWith(".json"))
      entries.push(inMemory(name, Buffer.from(artifactJson(content as object), "utf8")));
    else if (typeof content === "string") entries.push(inMemory(name, Buffer.from(content, "utf8")));
    else if (content instanceof Uint8Array) entries.push(inMemory(name, Buffer.from(content)));
    else {
      const source = (content as { path: string }).path;
      const h = createHash("sha256");
      let bytes = 0;
      try {
        for await (const chunk of createReadStream(source) as AsyncIterable<Buffer>) {
          h.update(chunk);
          bytes += chunk.length;
        }
      } catch (err) {
        throw new AssayError(
          "input_unreadable",
          `cannot read ${name}: ${(err as NodeJS.ErrnoException).code ?? err}`,
          { where: source, cause: err },
        );
      }
      entries.push({ name, sha256: `sha256:${h.digest("hex")}`, bytes, source });
    }
  }
  return entries;
}

function inMemory(name: ArchiveFile, data: Buffer): Entry {
  return { name, sha256: sha256Of(data), bytes: data.length, data };
}

function sha256Of(data: Buffer): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

/**
 * An entry's bytes. A file on disk is streamed and hashed again: if it changed since it was
 * digested, the manifest would lie, so the write fails instead.
 */
async function* contentOf(e: Entry): AsyncGenerator<Buffer> {
  if (e.data) {
    yield e.data;
    return;
  }
  const source = e.source as string;
  const h = createHash("sha256");
  let bytes = 0;
  for await (const chunk of createReadStream(source) as AsyncIterable<Buffer>) {
    bytes += chunk.length;
    if (bytes > e.bytes) break;
    h.update(chunk);
    yield chunk;
  }
  if (bytes !== e.bytes || `sha256:${h.digest("hex")}` !== e.sha256)
    throw new AssayError("runner_capture_failed", `${e.name} changed while it was being archived`, {
      where: source,
    });
}

async function* tarChunks(entries: Entry[]): AsyncGenerator<Buffer> {
  for (const e of entries) {
    yield gnuHeader(e.name, e.bytes);
    yield* contentOf(e);
    const pad = tarPadding(e.bytes);
    if (pad.length > 0) yield pad;
  }
  yield TAR_END;
}

async function writeTarball(out: string, entries: Entry[], overwrite: boolean): Promise<void> {
  if (!overwrite && (await exists(out))) throw refuse(out, "it exists; remove it or choose another --out");
  const tmp = tempName(out);
  try {
    await writeNewFile(tmp, tarChunks(entries), gzipBest());
    if (overwrite) await rename(tmp, out);
    else {
      // A hard link fails if the target appeared meanwhile, where rename would replace it.
      await link(tmp, out);
      await rm(tmp, { force: true });
    }
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    throw writeError(out, err);
  }
}

/**
 * Refuse an output `writeArchive` would refuse, before the work of a capture is done: a tarball
 * that exists, a directory that is not empty, a directory path that is a file.
 */
export async function checkArchiveTarget(out: string, opts: WriteArchiveOptions = {}): Promise<void> {
  const format = opts.format ?? formatOf(out);
  if (format === "tar.gz") {
    if (opts.overwrite !== true && (await exists(out)))
      throw refuse(out, "it exists; remove it or choose another --out");
    return;
  }
  const st = await stat(out).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return undefined;
    throw writeError(out, err);
  });
  if (st !== undefined) {
    if (!st.isDirectory()) throw refuse(out, "it exists and is not a directory");
    if ((await readdir(out)).length > 0) throw refuse(out, "it is a directory that is not empty");
  }
}

function formatOf(out: string): "tar.gz" | "dir" {
  return /\.(tar\.gz|tgz)$/.test(out) ? "tar.gz" : "dir";
}

async function writeDirectory(out: string, entries: Entry[]): Promise<void> {
  await checkArchiveTarget(out, { format: "dir" });
  const tmp = tempName(out);
  try {
    await mkdir(tmp);
    await mkdir(join(tmp, "layers"));
    for (const e of entries) await writeNewFile(join(tmp, e.name), contentOf(e));
    // rename(2) replaces an empty directory and fails on one that gained files meanwhile.
    await rename(tmp, out);
  } catch (err) {
    await rm(tmp, { recursive: true, force: true }).catch(() => {});
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOTEMPTY" || code === "EEXIST") throw refuse(out, "it is a directory that is not empty");
    throw writeError(out, err);
  }
}

/** Create `path` (it must not exist) with mode 0644 and write the chunks, through `transform` if given. */
async function writeNewFile(
  path: string,
  chunks: AsyncIterable<Buffer>,
  transform?: Transform,
): Promise<void> {
  const fh = await open(path, "wx", 0o644);
  try {
    // umask may have cleared bits; the mode is exactly 0644, as in the tarball's headers.
    await fh.chmod(0o644);
    const sink = async (source: AsyncIterable<Buffer>): Promise<void> => {
      for await (const chunk of source) {
        let at = 0;
        while (at < chunk.length) at += (await fh.write(chunk, at, chunk.length - at)).bytesWritten;
      }
    };
    if (transform) await pipeline(chunks, transform, sink);
    else await sink(chunks);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

function tempName(out: string): string {
  return `${out}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
}

function refuse(out: string, why: string): AssayError {
  return new AssayError("output_unwritable", `refusing to write the capture: ${why}`, { where: out });
}

function writeError(out: string, err: unknown): AssayError {
  if (err instanceof AssayError) return err;
  const code = (err as NodeJS.ErrnoException).code;
  return new AssayError("output_unwritable", `cannot write the capture: ${code ?? (err as Error).message}`, {
    where: out,
    cause: err,
  });
}
