import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";
import { list, type ReadEntry } from "tar";
import { AssayError } from "../../src/lib/errors.js";
import { type CaptureFiles, readArchive, writeArchive } from "../../src/runner/archive.js";
import { ARCHIVE_FILES } from "../../src/runner/contract.js";
import { capabilityDiff, diffText } from "../../src/runner/diff.js";
import { suiteTempDir, tempDir } from "../temp-dir.js";
import { goldenText, S5_RUN_ID, s5 } from "./contract-fixtures.js";

const EMPTY_SHA256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const R = S5_RUN_ID;
const POLICY = `{"schema":"assay.runner.policy_event.v0","run_id":"${R}","seq":0,"source_event_type":"assay.tool.decision","source":"assay://runner-spike/${R}","tool_call_id":"tc_runner_policy_001","tool":"read_file","decision":"allow"}\n`;
const EVENTS =
  `{"schema":"assay.runner.event.v0","run_id":"${R}","seq":0,"type":"run_started","agent_shim":"openai-agents","command":["node","agent.mjs"],"env_keys":["ASSAY_RUNNER_RUN_ID"],"window_elapsed_ms":0}\n` +
  `{"schema":"assay.runner.event.v0","run_id":"${R}","seq":1,"type":"run_finished","exit_code":0,"signal":null,"success":true,"window_elapsed_ms":40}\n`;

/** A kernel layer of `lines` openat lines, as bytes (about 190 bytes a line). */
function kernelLayer(lines: number): Buffer {
  const out: string[] = [];
  for (let seq = 0; seq < lines; seq++)
    out.push(
      `{"schema":"assay.runner.kernel_event.v0","run_id":"${R}","seq":${seq},"pid":4242,"event_type":1,"kind":"openat","value":"/tmp/work/file-${seq}.txt","flags":0,"mode":0,"return_value":3,"access_mode":"read","status":"success"}\n`,
    );
  return Buffer.from(out.join(""), "utf8");
}

/** The S5 documents with small layers; `kernel` given as text unless a path is passed. */
function capture(kernel: CaptureFiles["layers/kernel.ndjson"] = kernelLayer(2)): CaptureFiles {
  const { health, surface, correlation } = s5();
  return {
    "capability-surface.json": surface,
    "correlation-report.json": correlation,
    "events.ndjson": EVENTS,
    "layers/kernel.ndjson": kernel,
    "layers/policy.ndjson": POLICY,
    "layers/sdk.ndjson": "",
    "observation-health.json": health,
  };
}

function sha256(data: Uint8Array): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

async function assertAssayError(p: Promise<unknown>, code: string, where?: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AssayError, String(err));
    assert.equal(err.code, code, `${err.message} (${String((err.cause as Error | undefined)?.message)})`);
    if (where) assert.match(err.where ?? "", where);
    return true;
  });
}

/** The raw 512-byte headers of an uncompressed tar, with each entry's data; stops at the first zero block. */
function tarHeaders(tar: Buffer): { header: Buffer; data: Buffer; at: number }[] {
  const out: { header: Buffer; data: Buffer; at: number }[] = [];
  let at = 0;
  while (at + 512 <= tar.length) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const size = Number.parseInt(header.toString("latin1", 124, 135), 8);
    out.push({ header, data: tar.subarray(at + 512, at + 512 + size), at });
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

const field = (h: Buffer, at: number, len: number) => h.toString("latin1", at, at + len);

describe("writeArchive and readArchive (contract §2)", () => {
  const dir = suiteTempDir("assay-runner-archive-");

  test("a directory: the 8 files with their exact bytes, and a manifest that pins them", async () => {
    const out = join(dir, "capture-dir");
    const files = capture();
    const manifest = await writeArchive(out, files);
    assert.deepEqual(readdirSync(out).sort(), [
      "capability-surface.json",
      "correlation-report.json",
      "events.ndjson",
      "layers",
      "manifest.json",
      "observation-health.json",
    ]);
    assert.deepEqual(readdirSync(join(out, "layers")).sort(), [
      "kernel.ndjson",
      "policy.ndjson",
      "sdk.ndjson",
    ]);
    assert.equal(readFileSync(join(out, "observation-health.json"), "utf8"), JSON.stringify(s5().health));
    assert.equal(readFileSync(join(out, "layers/policy.ndjson"), "utf8"), POLICY);
    assert.equal(readFileSync(join(out, "layers/sdk.ndjson")).length, 0);

    const text = readFileSync(join(out, "manifest.json"), "utf8");
    assert.equal(text, JSON.stringify(manifest), "compact, no newline");
    assert.ok(text.startsWith(`{"schema":"assay.runner.archive_manifest.v0","run_id":"${R}","files":{`));
    assert.deepEqual(Object.keys(manifest.files), ARCHIVE_FILES.slice(1));
    for (const name of ARCHIVE_FILES.slice(1)) {
      const bytes = readFileSync(join(out, name));
      assert.deepEqual(manifest.files[name], { path: name, sha256: sha256(bytes), bytes: bytes.length });
    }
    assert.equal(manifest.files["layers/sdk.ndjson"]?.sha256, EMPTY_SHA256);

    const read = await readArchive(out);
    assert.deepEqual(read.manifest, manifest);
    assert.deepEqual(read.health, s5().health);
    assert.deepEqual(read.correlation, s5().correlation);
    assert.equal(read.where.surface, join(out, "capability-surface.json"));
    assert.equal(diffText(capabilityDiff(read, read)), goldenText("capability-diff-s5-idempotent-v0.json"));
  });

  test("a .tar.gz: GNU headers as the contract fixes them, in ARCHIVE_FILES order, no directories", async () => {
    const out = join(dir, "capture.tar.gz");
    await writeArchive(out, capture());
    const gz = readFileSync(out);
    assert.deepEqual(
      [...gz.subarray(0, 10)],
      [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 0xff],
      "mtime 0, level 9, OS 255",
    );
    const tar = gunzipSync(gz);
    const entries = tarHeaders(tar);
    assert.deepEqual(
      entries.map((e) => field(e.header, 0, 100).replace(/\0+$/, "")),
      [...ARCHIVE_FILES],
    );
    for (const { header } of entries) {
      assert.equal(field(header, 257, 8), "ustar  \0", "GNU magic and version");
      assert.equal(field(header, 100, 8), "0000644\0");
      assert.equal(field(header, 108, 8), "0000000\0");
      assert.equal(field(header, 116, 8), "0000000\0");
      assert.equal(field(header, 136, 12), "00000000000\0");
      assert.equal(field(header, 156, 1), "0");
      assert.equal(field(header, 265, 32).replace(/\0+$/, ""), "assay");
      assert.equal(field(header, 297, 32).replace(/\0+$/, ""), "assay");
      let sum = 8 * 32;
      for (let i = 0; i < 512; i++) if (i < 148 || i >= 156) sum += header[i] as number;
      assert.equal(Number.parseInt(field(header, 148, 7), 8), sum, "checksum");
    }
    const last = entries[entries.length - 1] as { data: Buffer; at: number };
    const end = last.at + 512 + Math.ceil(last.data.length / 512) * 512;
    assert.equal(tar.length, end + 1024, "two zero blocks end it");
    assert.ok(tar.subarray(end).every((b) => b === 0));

    // Another reader (node-tar) sees the same entries, modes and times (it reads owner names from
    // ustar headers only, so those are checked above).
    const seen: { path: string; mode: number; mtime: number; type: string }[] = [];
    await list({
      file: out,
      onReadEntry: (e: ReadEntry) => {
        seen.push({
          path: e.path,
          mode: e.mode ?? -1,
          mtime: e.mtime?.getTime() ?? -1,
          type: e.type,
        });
      },
    });
    assert.deepEqual(
      seen,
      ARCHIVE_FILES.map((path) => ({ path, mode: 0o644, mtime: 0, type: "File" })),
    );
  });

  test("the tarball and the directory hold the same bytes, and the reader reads both the same", async () => {
    const out = join(dir, "same.tar.gz");
    const outDir = join(dir, "same-dir");
    await writeArchive(out, capture());
    await writeArchive(outDir, capture());
    const fromTar = await readArchive(out);
    const fromDir = await readArchive(outDir);
    for (const name of ARCHIVE_FILES) {
      assert.deepEqual(fromTar.files[name], readFileSync(join(outDir, name)), name);
      assert.deepEqual(fromDir.files[name], fromTar.files[name], name);
    }
    assert.equal(fromTar.where.health, join(out, "observation-health.json"));
  });

  test("identical inputs give byte-identical tarballs, whether a layer is text, bytes or a file", async (t) => {
    const work = tempDir("assay-runner-same-", t);
    const kernel = kernelLayer(20_000); // ~3.8 MB, streamed from disk
    const kernelPath = join(work, "kernel.ndjson");
    writeFileSync(kernelPath, kernel);
    const a = join(work, "a.tar.gz");
    const b = join(work, "b.tar.gz");
    const c = join(work, "c.tar.gz");
    await writeArchive(a, capture(kernel));
    await writeArchive(b, capture({ path: kernelPath }));
    await writeArchive(c, capture(kernel.toString("utf8")));
    assert.deepEqual(readFileSync(b), readFileSync(a));
    assert.deepEqual(readFileSync(c), readFileSync(a));
    const read = await readArchive(b);
    assert.deepEqual(read.files["layers/kernel.ndjson"], kernel);
    assert.equal(read.manifest.files["layers/kernel.ndjson"]?.sha256, sha256(kernel));

    const d = join(work, "d");
    await writeArchive(d, capture({ path: kernelPath }));
    assert.deepEqual(readFileSync(join(d, "layers/kernel.ndjson")), kernel);
  });

  test("run ids that disagree: runner_contract_invalid, and nothing is written", async (t) => {
    const work = tempDir("assay-runner-refuse-", t);
    for (const out of [join(work, "x.tar.gz"), join(work, "x")]) {
      const files = capture();
      files["correlation-report.json"].run_id = "run_other";
      await assertAssayError(
        writeArchive(out, files),
        "runner_contract_invalid",
        /^correlation-report\.json$/,
      );
      const surface = capture();
      surface["capability-surface.json"].run_id = "run_other";
      await assertAssayError(
        writeArchive(out, surface),
        "runner_contract_invalid",
        /^capability-surface\.json$/,
      );
    }
    assert.deepEqual(readdirSync(work), []);
  });

  test("documents that break their schema or the surface's order are refused the same way", async (t) => {
    const work = tempDir("assay-runner-schema-", t);
    const drops = capture();
    drops["observation-health.json"].ringbuf_drops = 4;
    await assertAssayError(
      writeArchive(join(work, "a"), drops),
      "runner_contract_invalid",
      /observation-health/,
    );
    const failed = capture();
    failed["observation-health.json"].cgroup_correlation = "failed";
    await assertAssayError(
      writeArchive(join(work, "b"), failed),
      "runner_contract_invalid",
      /observation-health/,
    );
    const unsorted = capture();
    unsorted["capability-surface.json"].filesystem_paths = ["/w/\u{1f600}", "/w/\uff5e"];
    await assertAssayError(
      writeArchive(join(work, "c.tar.gz"), unsorted),
      "runner_contract_invalid",
      /capability-surface/,
    );
    const colon = capture();
    for (const doc of [
      "observation-health.json",
      "capability-surface.json",
      "correlation-report.json",
    ] as const)
      colon[doc].run_id = "run:1";
    await assertAssayError(writeArchive(join(work, "d"), colon), "runner_contract_invalid");
    assert.deepEqual(readdirSync(work), []);
  });

  test("a missing layer file is an input error, and nothing is written", async (t) => {
    const work = tempDir("assay-runner-missing-", t);
    await assertAssayError(
      writeArchive(join(work, "x.tar.gz"), capture({ path: join(work, "nope.ndjson") })),
      "input_unreadable",
      /nope\.ndjson$/,
    );
    assert.deepEqual(readdirSync(work), []);
  });

  test("an existing non-empty directory or tarball is refused; an empty directory is filled", async (t) => {
    const work = tempDir("assay-runner-exists-", t);
    const full = join(work, "full");
    await writeArchive(full, capture());
    await assertAssayError(writeArchive(full, capture()), "output_unwritable", /full$/);
    const file = join(work, "file");
    writeFileSync(file, "x");
    await assertAssayError(writeArchive(file, capture()), "output_unwritable");

    const empty = join(work, "empty");
    await import("node:fs/promises").then((fs) => fs.mkdir(empty));
    await writeArchive(empty, capture());
    assert.equal((await readArchive(empty)).manifest.run_id, R);

    const tgz = join(work, "x.tgz");
    await writeArchive(tgz, capture());
    await assertAssayError(writeArchive(tgz, capture()), "output_unwritable");
    const other = capture();
    other["events.ndjson"] = "";
    await writeArchive(tgz, other, { overwrite: true });
    assert.equal((await readArchive(tgz)).files["events.ndjson"].length, 0);
    assert.deepEqual(readdirSync(work).sort(), ["empty", "file", "full", "x.tgz"], "no temporary files left");
  });

  test("the reader refuses a capture whose files do not match its manifest", async (t) => {
    const work = tempDir("assay-runner-tamper-", t);
    const out = join(work, "c");
    await writeArchive(out, capture());
    writeFileSync(join(out, "layers/sdk.ndjson"), "{}\n");
    await assertAssayError(readArchive(out), "input_invalid", /layers\/sdk\.ndjson$/);
    writeFileSync(join(out, "layers/sdk.ndjson"), "");
    await readArchive(out);
    await import("node:fs/promises").then((fs) => fs.rm(join(out, "events.ndjson")));
    await assertAssayError(readArchive(out), "input_invalid", /events\.ndjson$/);
    await assertAssayError(readArchive(join(work, "nothing")), "input_unreadable");
  });

  test("the reader refuses a tarball with a changed, missing or extra entry, or one that is not a tarball", async (t) => {
    const work = tempDir("assay-runner-badtar-", t);
    const good = join(work, "good.tar.gz");
    await writeArchive(good, capture());
    const tar = gunzipSync(readFileSync(good));
    const entries = tarHeaders(tar);

    const changed = Buffer.from(tar);
    const policy = entries.find((e) => field(e.header, 0, 20).startsWith("layers/policy"));
    assert.ok(policy);
    changed[policy.at + 512 + 2] = 0x20; // a byte of the policy layer, not of a header
    writeFileSync(join(work, "changed.tar.gz"), gzipSync(changed));
    await assertAssayError(
      readArchive(join(work, "changed.tar.gz")),
      "input_invalid",
      /layers\/policy\.ndjson$/,
    );

    // Without its last entry (observation-health.json): what is left, then the end blocks.
    const last = entries[entries.length - 1] as { at: number };
    writeFileSync(
      join(work, "short.tar.gz"),
      gzipSync(Buffer.concat([tar.subarray(0, last.at), Buffer.alloc(1024)])),
    );
    await assertAssayError(readArchive(join(work, "short.tar.gz")), "input_invalid", /short\.tar\.gz$/);

    writeFileSync(join(work, "truncated.tar.gz"), gzipSync(tar.subarray(0, last.at + 100)));
    await assertAssayError(readArchive(join(work, "truncated.tar.gz")), "input_invalid");

    const extra = Buffer.from(tar.subarray(last.at, last.at + 512));
    extra.write("notes.txt\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 0, "latin1");
    extra.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of extra) sum += b;
    extra.write(`${sum.toString(8).padStart(7, "0")}\0`, 148, "latin1");
    const withExtra = Buffer.concat([tar.subarray(0, last.at), extra, tar.subarray(last.at + 512)]);
    writeFileSync(join(work, "extra.tar.gz"), gzipSync(withExtra));
    await assertAssayError(readArchive(join(work, "extra.tar.gz")), "input_invalid");

    writeFileSync(join(work, "plain.tar.gz"), tar);
    await assertAssayError(readArchive(join(work, "plain.tar.gz")), "input_invalid", /plain\.tar\.gz$/);
    assert.ok(existsSync(good));
  });
});
