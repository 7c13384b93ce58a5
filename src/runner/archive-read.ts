import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "node:zlib";
import { AssayError } from "../lib/errors.js";
import { schemaValidator } from "../lib/schema-validator.js";
import { TarParser } from "./archive-tar.js";
import { ARCHIVE_FILES, type ArchiveFile, type ArchiveManifest } from "./contract.js";
import type { EvidenceSet } from "./diff.js";

/** A capture read back: its manifest, its three evidence documents (unchecked JSON) and every file's bytes. */
export interface ArchiveContents extends EvidenceSet {
  manifest: ArchiveManifest;
  /** Where each document was read from (`<dir>/observation-health.json`, `<archive>/observation-health.json`). */
  where: { health: string; surface: string; correlation: string };
  files: Record<ArchiveFile, Buffer>;
}

const MEMBERS: ReadonlySet<string> = new Set(ARCHIVE_FILES);

/**
 * Read a capture, a `.tar.gz` or a directory, as `assay runner diff` takes either: all 8 files
 * present, the manifest valid against its schema, every file's sha256 and length as the manifest
 * says, the three documents JSON with the manifest's run id. The documents are not checked
 * against Assay's schemas (archives of other writers carry fields Assay never writes);
 * `capabilityDiff` checks what it reads. Fails with `input_unreadable` or `input_invalid`.
 */
export async function readArchive(pathOrDir: string): Promise<ArchiveContents> {
  const st = await stat(pathOrDir).catch((err: NodeJS.ErrnoException) => {
    throw new AssayError("input_unreadable", `cannot read the capture: ${err.code ?? err.message}`, {
      where: pathOrDir,
      cause: err,
    });
  });
  const files = st.isDirectory() ? await readDirectory(pathOrDir) : await readTarball(pathOrDir);
  const at = (name: ArchiveFile) => join(pathOrDir, name);

  const manifest = parseJson(files["manifest.json"], at("manifest.json"));
  const validate = schemaValidator<ArchiveManifest>("runner-archive-manifest");
  if (!validate(manifest)) {
    const e = validate.errors?.[0];
    throw new AssayError("input_invalid", `\`${e?.instancePath || "/"}\` ${e?.message ?? "is invalid"}`, {
      where: at("manifest.json"),
    });
  }
  for (const name of ARCHIVE_FILES.slice(1) as ArchiveFile[]) {
    const want = manifest.files[name] as { sha256: string; bytes: number };
    const data = files[name];
    const sha256 = `sha256:${createHash("sha256").update(data).digest("hex")}`;
    if (data.length !== want.bytes || sha256 !== want.sha256)
      throw new AssayError(
        "input_invalid",
        `does not match the manifest: ${data.length} bytes with ${sha256}, the manifest says ${want.bytes} bytes with ${want.sha256}`,
        { where: at(name) },
      );
  }

  const where = {
    health: at("observation-health.json"),
    surface: at("capability-surface.json"),
    correlation: at("correlation-report.json"),
  };
  const health = parseJson(files["observation-health.json"], where.health);
  const surface = parseJson(files["capability-surface.json"], where.surface);
  const correlation = parseJson(files["correlation-report.json"], where.correlation);
  for (const [doc, path] of [
    [health, where.health],
    [surface, where.surface],
    [correlation, where.correlation],
  ] as const) {
    const runId = (doc as { run_id?: unknown } | null)?.run_id;
    if (runId !== manifest.run_id)
      throw new AssayError(
        "input_invalid",
        `\`/run_id\` \`${String(runId)}\` differs from the manifest's \`${manifest.run_id}\``,
        { where: path },
      );
  }
  return { manifest, health, surface, correlation, where, files };
}

/**
 * The most bytes one file of a capture may hold when it is read back (every file is held in memory
 * to check its digest): beyond it, the capture is refused with one line rather than the process
 * running out of memory on a hostile or broken archive. A million kernel events take about 200 MB.
 */
export const MAX_CAPTURE_FILE_BYTES = 1024 * 1024 * 1024;

function tooLarge(where: string): AssayError {
  return new AssayError(
    "input_invalid",
    `larger than ${MAX_CAPTURE_FILE_BYTES} bytes, the most a capture file read back may hold`,
    { where },
  );
}

async function readDirectory(dir: string): Promise<Record<ArchiveFile, Buffer>> {
  const files = {} as Record<ArchiveFile, Buffer>;
  for (const name of ARCHIVE_FILES) {
    const path = join(dir, name);
    try {
      if ((await stat(path)).size > MAX_CAPTURE_FILE_BYTES) throw tooLarge(path);
      files[name] = await readFile(path);
    } catch (err) {
      if (err instanceof AssayError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      throw new AssayError(
        code === "ENOENT" ? "input_invalid" : "input_unreadable",
        code === "ENOENT" ? "missing from the capture directory" : `cannot read: ${code ?? err}`,
        { where: path, cause: err },
      );
    }
  }
  return files;
}

async function readTarball(path: string): Promise<Record<ArchiveFile, Buffer>> {
  const found = new Map<string, Buffer>();
  let current: { name: string; chunks: Buffer[]; bytes: number } | undefined;
  const parser = new TarParser(path, {
    entry(h) {
      // Tars made by hand from a capture directory name entries `./x` and list directories.
      const name = h.path.replace(/^(\.\/)+/, "");
      if (h.kind === "directory") {
        current = undefined;
        return;
      }
      if (!MEMBERS.has(name))
        throw new AssayError("input_invalid", `\`${name}\` is not a file of a runner capture`, {
          where: path,
        });
      if (found.has(name))
        throw new AssayError("input_invalid", `\`${name}\` appears more than once`, { where: path });
      current = { name, chunks: [], bytes: 0 };
    },
    data(chunk) {
      if (!current) return;
      current.bytes += chunk.length;
      if (current.bytes > MAX_CAPTURE_FILE_BYTES) throw tooLarge(`${path}: ${current.name}`);
      current.chunks.push(Buffer.from(chunk));
    },
    entryEnd() {
      if (current) found.set(current.name, Buffer.concat(current.chunks));
      current = undefined;
    },
  });
  // The first error wins: pipeline reports an abort of its last stage when gunzip fails first.
  const gunzip = createGunzip();
  let first: unknown;
  gunzip.once("error", (err) => {
    first ??= err;
  });
  try {
    await pipeline(createReadStream(path), gunzip, async (chunks: AsyncIterable<Buffer>) => {
      for await (const chunk of chunks)
        try {
          parser.push(chunk);
        } catch (err) {
          first ??= err;
          throw err;
        }
    });
    parser.finish();
  } catch (caught) {
    const err = first ?? caught;
    if (err instanceof AssayError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const isZlib = typeof code === "string" && code.startsWith("Z_");
    throw new AssayError(
      isZlib ? "input_invalid" : "input_unreadable",
      isZlib ? "not a gzip-compressed tar (nor a capture directory)" : `cannot read: ${code ?? err}`,
      { where: path, cause: err },
    );
  }
  const files = {} as Record<ArchiveFile, Buffer>;
  for (const name of ARCHIVE_FILES) {
    const data = found.get(name);
    if (data === undefined)
      throw new AssayError("input_invalid", `\`${name}\` is missing from the archive`, { where: path });
    files[name] = data;
  }
  return files;
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

function parseJson(data: Buffer, where: string): unknown {
  try {
    return JSON.parse(UTF8.decode(data));
  } catch (err) {
    throw new AssayError("input_invalid", `not UTF-8 JSON: ${(err as Error).message}`, { where, cause: err });
  }
}
