import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { readArtifact } from "../../../src/matrix/sources/read-artifact.js";
import { captureListingDigest, RUNNER_ARCHIVE_NO_TIME } from "../../../src/matrix/sources/runner-archive.js";
import { type CaptureFiles, writeArchive } from "../../../src/runner/archive.js";
import { ARCHIVE_FILES, type ArchiveFile } from "../../../src/runner/contract.js";
import { goldenText, S5_RUN_ID, s5 } from "../../runner/contract-fixtures.js";
import { suiteTempDir } from "../../temp-dir.js";
import { metadata, RECORDED_AT, readAs, recording, refused, sha256 } from "./helpers.js";

const R = S5_RUN_ID;
const EVENTS =
  `{"schema":"assay.runner.event.v0","run_id":"${R}","seq":0,"type":"run_started","agent_shim":"openai-agents","command":["node","agent.mjs"],"env_keys":["ASSAY_RUNNER_RUN_ID"],"window_elapsed_ms":0}\n` +
  `{"schema":"assay.runner.event.v0","run_id":"${R}","seq":1,"type":"run_finished","exit_code":0,"signal":null,"success":true,"window_elapsed_ms":40}\n`;

/** The S5 golden documents as a capture, with small layers. */
function capture(): CaptureFiles {
  const { health, surface, correlation } = s5();
  return {
    "capability-surface.json": surface,
    "correlation-report.json": correlation,
    "events.ndjson": EVENTS,
    "layers/kernel.ndjson": "",
    "layers/policy.ndjson": "",
    "layers/sdk.ndjson": "",
    "observation-health.json": health,
  };
}

describe("runner_archive", () => {
  const dir = suiteTempDir("assay-matrix-runner-");
  before(async () => {
    await writeArchive(join(dir, "capture"), capture());
    await writeArchive(join(dir, "capture.tar.gz"), capture());
  });

  test("a directory and a .tar.gz: the manifest and the three documents, no time and exactly why", async () => {
    for (const name of ["capture", "capture.tar.gz"]) {
      const a = await readArtifact("runner_archive", join(dir, name), name);
      assert.equal(a.kind, "runner_archive");
      assert.equal(a.path, name);
      assert.deepEqual(Object.keys(a.data), [
        "manifest",
        "observation_health",
        "capability_surface",
        "correlation_report",
      ]);
      const { health, surface, correlation } = s5();
      assert.deepEqual(a.data.observation_health, health);
      assert.deepEqual(a.data.capability_surface, surface);
      assert.deepEqual(a.data.correlation_report, correlation);
      assert.equal((a.data.manifest as { run_id: string }).run_id, R);
      assert.equal(a.timestamp, null);
      assert.equal(a.timestamp_source, RUNNER_ARCHIVE_NO_TIME);
      assert.match(a.timestamp_source, /window_elapsed_ms/);
      assert.equal(a.recorded, null);
    }
  });

  test("sha256: the tarball's bytes; a directory's canonical listing, as sha256sum computes it", async () => {
    const tar = await readArtifact("runner_archive", join(dir, "capture.tar.gz"), "capture.tar.gz");
    assert.equal(tar.sha256, sha256(readFileSync(join(dir, "capture.tar.gz"))));
    const d = await readArtifact("runner_archive", join(dir, "capture"), "capture");
    const sorted = [...ARCHIVE_FILES].sort();
    const listing = sorted
      .map((n) => `${sha256(readFileSync(join(dir, "capture", n))).slice(7)}  ${n}\n`)
      .join("");
    assert.equal(d.sha256, sha256(Buffer.from(listing)));
    const tool = spawnSync("sh", ["-c", `sha256sum ${sorted.join(" ")} | sha256sum`], {
      cwd: join(dir, "capture"),
      encoding: "utf8",
    });
    if (tool.status === 0) assert.equal(d.sha256, `sha256:${tool.stdout.split(" ")[0]}`);
    // One changed byte in any file changes it.
    const files = Object.fromEntries(sorted.map((n) => [n, readFileSync(join(dir, "capture", n))])) as Record<
      ArchiveFile,
      Buffer
    >;
    files["layers/sdk.ndjson"] = Buffer.from("x");
    assert.notEqual(captureListingDigest(files), d.sha256);
  });

  test("refused: not a capture, a broken one, with the display path", async () => {
    await refused("runner_archive", dir, "soak.json", { schema_version: "soak-report-v1" }, /^soak\.json/);
    writeFileSync(join(dir, "capture", "events.ndjson"), "tampered\n");
    await assert.rejects(
      readArtifact("runner_archive", join(dir, "capture"), "cap"),
      (e: { code?: string; where?: string }) => {
        assert.equal(e.code, "matrix_artifact_invalid");
        assert.equal(e.where, `cap/events.ndjson`);
        return true;
      },
    );
  });
});

describe("runner_diff", () => {
  const dir = suiteTempDir("assay-matrix-diff-");
  const golden = goldenText("capability-diff-s5-idempotent-v0.json");

  test("bare: the diff as data, no time; recorded: the recording's time", async () => {
    const a = await readAs("runner_diff", dir, "diff.json", golden);
    assert.deepEqual(a.data, JSON.parse(golden));
    assert.equal(a.data.status, "clean");
    assert.equal(a.timestamp, null);
    assert.match(
      a.timestamp_source,
      /^a bare runner_diff output records no time; wrap it with `assay matrix record`$/,
    );
    const rec = recording("runner_diff", JSON.parse(golden));
    const b = await readAs("runner_diff", dir, "diff-rec.json", rec);
    assert.equal(b.timestamp, RECORDED_AT);
    assert.equal(b.timestamp_source, "recorded_at_utc");
    assert.deepEqual(b.recorded, metadata(rec));
  });

  test("refused: another kind, a schema fault with its pointer, a syntax error", async () => {
    await refused("runner_diff", dir, "health.json", s5().health, "health.json#");
    const d = JSON.parse(golden);
    d.status = "fine";
    await refused("runner_diff", dir, "bad.json", d, "bad.json#/status");
    await refused(
      "runner_diff",
      dir,
      "rec-bad.json",
      recording("runner_diff", d),
      "rec-bad.json#/output/status",
    );
    await refused(
      "runner_diff",
      dir,
      "syntax.json",
      golden.replace('"clean"', "clean"),
      /^syntax\.json:5:\d+$/,
    );
  });
});
