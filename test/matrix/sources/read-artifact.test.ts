import assert from "node:assert/strict";
import { closeSync, ftruncateSync, mkdirSync, openSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { AssayError } from "../../../src/lib/errors.js";
import { ARTIFACT_KINDS, type ArtifactKind } from "../../../src/matrix/artifact.js";
import { MAX_ARTIFACT_BYTES } from "../../../src/matrix/sources/file-bytes.js";
import { readArtifact } from "../../../src/matrix/sources/read-artifact.js";
import { suiteTempDir } from "../../temp-dir.js";
import { refused } from "./helpers.js";

async function rejects(kind: ArtifactKind, abs: string, shown: string, message: RegExp): Promise<void> {
  await assert.rejects(readArtifact(kind, abs, shown), (err: unknown) => {
    assert.ok(err instanceof AssayError);
    assert.equal(err.code, "matrix_artifact_invalid");
    assert.equal(err.where, shown);
    assert.match(err.message, message);
    return true;
  });
}

describe("readArtifact: the file itself", () => {
  const dir = suiteTempDir("assay-matrix-read-");

  test("a file over the size limit is refused before it is read, for every kind", async () => {
    const big = join(dir, "big.json");
    // Sparse: the size is what is checked, nothing is read.
    const fd = openSync(big, "w");
    ftruncateSync(fd, MAX_ARTIFACT_BYTES + 1);
    closeSync(fd);
    for (const kind of ARTIFACT_KINDS) await rejects(kind, big, "big.json", /larger than 67108864/);
  });

  test("a directory where a file is expected, bytes that are not UTF-8", async () => {
    mkdirSync(join(dir, "a-dir"));
    await rejects("bench", join(dir, "a-dir"), "a-dir", /not a regular file/);
    await rejects("junit", join(dir, "a-dir"), "a-dir", /not a regular file/);
    await refused(
      "bench",
      dir,
      "latin1.json",
      Buffer.from([0x7b, 0x22, 0xe9, 0x22, 0x3a, 0x31, 0x7d]),
      "latin1.json",
    );
    await refused("bench", dir, "empty.json", "", "empty.json:1:1");
    await refused("bench", dir, "two.json", '{"a": 1}\n{"b": 2}\n', "two.json:2:1");
  });
});
