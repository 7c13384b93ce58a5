import { open, stat } from "node:fs/promises";
import type { Artifact, ArtifactKind } from "../artifact.js";
import { readArtifactBytes, sha256Of, utf8Text } from "./file-bytes.js";
import { judgeJsonArtifact } from "./json-artifact.js";
import { isJsonArtifactKind } from "./json-kinds.js";
import { judgeJunit } from "./junit.js";
import { parseJsonArtifact } from "./read-json.js";
import { readRunnerArchive } from "./runner-archive.js";

/**
 * Read one evidence artifact as `kind`: checked as that kind (a JSON kind also when recorded by
 * `assay matrix record`), with what its criteria see and the time it records itself, never the
 * file system's. `absPath` exists (the caller checked); errors name `displayPath`, with a JSON
 * pointer (`#/run/started_at_utc`) or a `:line:col`. Throws `matrix_artifact_invalid`.
 */
export async function readArtifact(
  kind: ArtifactKind,
  absPath: string,
  displayPath: string,
): Promise<Artifact> {
  if (kind === "runner_archive" && !(await isJsonFile(absPath))) {
    const { sha256, ...body } = await readRunnerArchive(absPath, displayPath);
    return { kind, path: displayPath, sha256, ...body };
  }
  const bytes = await readArtifactBytes(absPath, displayPath);
  const head = { kind, path: displayPath, sha256: sha256Of(bytes) };
  // A capture's health report, recorded with its time (`assay matrix record --kind runner_archive`).
  if (kind === "runner_archive")
    return { ...head, ...judgeJsonArtifact(kind, parseJsonArtifact(bytes, displayPath), displayPath) };
  if (kind === "junit") return { ...head, ...judgeJunit(utf8Text(bytes, displayPath), displayPath) };
  if (isJsonArtifactKind(kind))
    return { ...head, ...judgeJsonArtifact(kind, parseJsonArtifact(bytes, displayPath), displayPath) };
  const unknownKind: never = kind;
  throw new Error(`no reader for artifact kind ${String(unknownKind)}`);
}

/** A regular file whose first non-blank byte is `{`: JSON, not a capture directory or tarball. */
async function isJsonFile(absPath: string): Promise<boolean> {
  if (!(await stat(absPath)).isFile()) return false;
  const fh = await open(absPath, "r");
  try {
    const { buffer, bytesRead } = await fh.read(Buffer.alloc(64), 0, 64, 0);
    return /^\s*\{/.test(buffer.subarray(0, bytesRead).toString("latin1"));
  } finally {
    await fh.close();
  }
}
