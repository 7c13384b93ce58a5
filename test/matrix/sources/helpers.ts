import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { AssayError } from "../../../src/lib/errors.js";
import type { Artifact, ArtifactKind, RecordedOutput } from "../../../src/matrix/artifact.js";
import { readArtifact } from "../../../src/matrix/sources/read-artifact.js";

/** File content: text or bytes as they are, anything else as pretty JSON. */
export type Content = string | Uint8Array | object;

export function bytesOf(content: Content): Buffer {
  if (typeof content === "string") return Buffer.from(content, "utf8");
  if (content instanceof Uint8Array) return Buffer.from(content);
  return Buffer.from(`${JSON.stringify(content, null, 2)}\n`, "utf8");
}

export function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** Write `content` to `dir/name` and read it as `kind`, shown as `name`; checks path, kind and sha256. */
export async function readAs(
  kind: ArtifactKind,
  dir: string,
  name: string,
  content: Content,
): Promise<Artifact> {
  const bytes = bytesOf(content);
  writeFileSync(join(dir, name), bytes);
  const a = await readArtifact(kind, join(dir, name), name);
  assert.equal(a.kind, kind);
  assert.equal(a.path, name);
  assert.equal(a.sha256, sha256(bytes));
  return a;
}

/** Reading `content` as `kind` fails with `matrix_artifact_invalid` at `where`; returns the error. */
export async function refused(
  kind: ArtifactKind,
  dir: string,
  name: string,
  content: Content,
  where: string | RegExp,
): Promise<AssayError> {
  let caught: unknown;
  try {
    await readAs(kind, dir, name, content);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof AssayError, `expected a refusal, got ${String(caught)}`);
  assert.equal(caught.code, "matrix_artifact_invalid", caught.message);
  if (typeof where === "string") assert.equal(caught.where, where, caught.message);
  else assert.match(caught.where ?? "", where, caught.message);
  assert.doesNotMatch(caught.message, /\n/, "one line");
  return caught;
}

export const RECORDED_AT = "2026-12-07T08:00:01.250Z";

/** A recording of `output` as `assay matrix record` writes it. */
export function recording(
  kind: ArtifactKind,
  output: unknown,
  over: Partial<RecordedOutput> = {},
): RecordedOutput {
  return {
    schema_version: "assay.recorded-output.v1",
    kind,
    command: ["assay", "something", "--json"],
    started_at_utc: "2026-12-07T08:00:00Z",
    recorded_at_utc: RECORDED_AT,
    exit_code: 0,
    output,
    ...over,
  };
}

/** The envelope's metadata, as `Artifact.recorded` holds it. */
export function metadata(r: RecordedOutput): Omit<RecordedOutput, "output"> {
  const { output: _output, ...rest } = r;
  return rest;
}
