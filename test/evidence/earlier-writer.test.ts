import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { writeBundle } from "../../src/evidence/bundle-writer.js";
import { verifyBundle } from "../../src/evidence/verify-bundle.js";
import { EVIDENCE_VERIFY_CODES, type EvidenceVerifyCode } from "../../src/evidence/verify-codes.js";
import { runAssay } from "../run-assay.js";
import { suiteTempDir } from "../temp-dir.js";
import { decisionRecord } from "./helpers.js";

// Issue 18: bundles written the way the earlier (Rust) implementation writes them, built here by
// an independent Python script (test/fixtures/evidence/earlier_writer.py: GNU headers, owner
// `assay`, its checksum layout, zlib's deflate), must verify by content; each corrupt one must
// fail with the code of its own defect, not at the header. And the other way: Python's tarfile
// reads a bundle Assay writes and recomputes its hashes. The CLI cases run dist/ (`npm run build`).
const SCRIPT = fileURLToPath(new URL("../fixtures/evidence/earlier_writer.py", import.meta.url));
const HAS_PYTHON = spawnSync("python3", ["--version"]).status === 0;
const skip = HAS_PYTHON ? false : "python3 is not installed (it builds the earlier writer's bundles)";

const dir = suiteTempDir("assay-earlier-");

function python(...args: string[]): unknown {
  const r = spawnSync("python3", [SCRIPT, ...args], { encoding: "utf8", maxBuffer: 64 * 2 ** 20 });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout);
}

describe("bundles from the earlier implementation's writer", { skip }, () => {
  let files: Record<string, string> = {};
  before(() => {
    files = python("build", dir) as Record<string, string>;
  });
  const file = (variant: string): string => {
    const f = files[variant];
    assert.ok(f, `no variant ${variant}`);
    return f;
  };

  const GNU = "GNU format, owner `assay`, group `assay`";
  for (const [variant, events, cosmetic] of [
    ["single", 1, GNU],
    ["multi", 5, GNU],
    ["python-gnu", 5, GNU],
    ["typeflag-nul", 5, `GNU format, type NUL, owner \`assay\`, group \`assay\``],
  ] as const) {
    test(`${variant}: valid, ${events} event(s), a tar_header_noncanonical warning per member`, async () => {
      const r = await verifyBundle(file(variant));
      assert.ok(r.valid, r.valid ? "" : `${r.failure.code}: ${r.failure.message}`);
      assert.equal(r.event_count, events);
      assert.equal(r.run_id, "run-earlier");
      assert.deepEqual(r.producer, { name: "assay", version: "2.6.0" });
      assert.deepEqual(r.warnings, [
        {
          code: "tar_header_noncanonical",
          message: `member \`manifest.json\` header is not Assay's canonical one: ${cosmetic}`,
          where: "member 0",
        },
        {
          code: "tar_header_noncanonical",
          message: `member \`events.ndjson\` header is not Assay's canonical one: ${cosmetic}`,
          where: "member 1",
        },
      ]);
    });
  }

  test("events with assaygit, assaypii and assaysecrets (the earlier writer always sets them) verify", async () => {
    const r = await verifyBundle(file("extensions"));
    assert.ok(r.valid, r.valid ? "" : `${r.failure.code}: ${r.failure.message}`);
    assert.equal(r.event_count, 3);
  });

  test("a manifest whose producer has `git` (the earlier writer adds it when built with ASSAY_GIT_SHA) verifies", async () => {
    const r = await verifyBundle(file("producer-git"));
    assert.ok(r.valid, r.valid ? "" : `${r.failure.code}: ${r.failure.message}`);
    assert.deepEqual(r.producer, { name: "assay", version: "2.6.0", git: "0123abc" });
  });

  test("tarfile.open(mode='w:gz'): gzip file name and mtime, mode 0600, owner `ci`: valid, with warnings", async () => {
    const r = await verifyBundle(file("tarfile-w-gz"));
    assert.ok(r.valid, r.valid ? "" : `${r.failure.code}: ${r.failure.message}`);
    assert.deepEqual(
      r.warnings.map((w) => w.code),
      ["gzip_header_noncanonical", "tar_header_noncanonical", "tar_header_noncanonical"],
    );
    assert.match(
      r.warnings[0]?.message ?? "",
      /^gzip header is not Assay's canonical one: file name, mtime \d+$/,
    );
    assert.equal(
      r.warnings[1]?.message,
      "member `manifest.json` header is not Assay's canonical one: mode 0600, owner `ci`, group `ci`",
    );
  });

  // Each variant changes one thing; the code is the one of that change.
  const CORRUPT: [string, EvidenceVerifyCode, string | undefined][] = [
    ["payload-changed", "events_hash_mismatch", "events.ndjson"],
    ["payload-changed-rehashed", "event_content_hash_mismatch", "events.ndjson:1"],
    ["digest-changed", "events_hash_mismatch", "events.ndjson"],
    ["content-hash-changed", "event_content_hash_mismatch", "events.ndjson:3"],
    ["run-root-changed", "run_root_mismatch", "manifest.json#/run_root"],
    ["manifest-only", "member_missing", undefined],
    ["duplicate-member", "member_duplicate", "member 1"],
    ["unexpected-member", "member_unexpected", "member 1"],
    ["extra-member", "limit_member_count", "member 2"],
    ["wrong-order", "member_order", "member 0"],
    ["traversal", "member_unsafe_path", "member 0"],
    ["symlink", "member_not_regular", "member 0"],
    ["gnu-longname", "member_not_regular", "member 1"],
    ["truncated-gzip-header", "gzip_truncated", undefined],
    ["truncated-half", "gzip_truncated", undefined],
    ["high-ratio", "limit_compression_ratio", undefined],
    ["oversize-line", "limit_line_length", "events.ndjson:1"],
    ["oversize-member", "limit_member_size", "member 1"],
    ["pax-past-ceiling", "member_not_regular", "member 0"],
  ];
  for (const [variant, code, where] of CORRUPT)
    test(`${variant}: ${code}`, async () => {
      const r = await verifyBundle(file(variant));
      assert.equal(r.valid, false, `${variant} verified`);
      if (r.valid) return;
      assert.equal(r.failure.code, code, r.failure.message);
      assert.equal(r.failure.class, EVIDENCE_VERIFY_CODES[code]);
      assert.equal(r.failure.where, where);
    });

  test("a PAX header is refused from its header: its declared 3 GiB is never read", async () => {
    const r = await verifyBundle(file("pax-past-ceiling"));
    assert.equal(r.valid, false);
    if (!r.valid) assert.match(r.failure.message, /^a PAX extended header \(type `x`\)/);
  });

  test("CLI: exit 0 with the warnings in --json and on stderr; exit 1 with the defect's code", () => {
    const ok = runAssay(["evidence", "verify", file("multi"), "--json"]);
    assert.equal(ok.code, 0, ok.err);
    const result = JSON.parse(ok.out);
    assert.equal(result.valid, true);
    assert.equal(result.event_count, 5);
    assert.deepEqual(
      result.warnings.map((w: { code: string; where: string }) => [w.code, w.where]),
      [
        ["tar_header_noncanonical", "member 0"],
        ["tar_header_noncanonical", "member 1"],
      ],
    );
    const human = runAssay(["evidence", "verify", file("single")]);
    assert.equal(human.code, 0, human.err);
    assert.match(
      human.out,
      /^valid: .*single\.tar\.gz: 1 events, run run-earlier, bundle sha256:[0-9a-f]{64}\n$/,
    );
    assert.equal(human.err.trim().split("\n").length, 2);
    assert.match(human.err, /^assay: warning: .*: tar_header_noncanonical: member `manifest.json` header/);
    const bad = runAssay(["evidence", "verify", file("payload-changed"), "--json"]);
    assert.equal(bad.code, 1, bad.err);
    const failure = JSON.parse(bad.out);
    assert.equal(failure.valid, false);
    assert.equal(failure.code, "events_hash_mismatch");
    assert.equal(failure.warnings.length, 2);
  });
});

describe("a bundle Assay writes, read by Python's tarfile and rehashed by an independent script", {
  skip,
}, () => {
  test("headers are the canonical ones; events hash, content hashes and run root agree", async () => {
    // Integers and ASCII only: the script's json.dumps canonical form equals RFC 8785 for these.
    let log = "";
    for (let i = 0; i < 9; i++) {
      const r = decisionRecord(i) as { data: Record<string, unknown> };
      if ("latency_us" in r.data) {
        r.data.latency_us = 12 + i;
        r.data.arguments = { path: `/workspace/file-${i}.txt`, note: "hello" };
      }
      log += `${JSON.stringify(r)}\n`;
    }
    const events = join(dir, "roundtrip.ndjson");
    writeFileSync(events, log);
    const out = join(dir, "roundtrip.tar.gz");
    const summary = await writeBundle({ events, out });
    const ours = await verifyBundle(out);
    assert.ok(ours.valid);
    assert.deepEqual(ours.warnings, []);

    const theirs = python("check", out) as {
      members: Record<string, unknown>[];
      manifest: Record<string, unknown>;
      events_sha256: string;
      events_bytes: number;
      event_count: number;
      run_root: string;
    };
    for (const m of theirs.members)
      assert.deepEqual(
        {
          type: m.type,
          mode: m.mode,
          uid: m.uid,
          gid: m.gid,
          mtime: m.mtime,
          uname: m.uname,
          gname: m.gname,
        },
        { type: "0", mode: 0o644, uid: 0, gid: 0, mtime: 0, uname: "", gname: "" },
      );
    assert.equal(theirs.event_count, 9);
    assert.equal(theirs.events_sha256, summary.events_sha256);
    assert.equal(theirs.events_bytes, summary.events_bytes);
    assert.equal(theirs.run_root, summary.run_root);
    assert.equal(theirs.manifest.run_root, summary.run_root);
    assert.equal(theirs.manifest.bundle_id, summary.bundle_id);
    assert.deepEqual(theirs.manifest.files, {
      "events.ndjson": { path: "events.ndjson", sha256: summary.events_sha256, bytes: summary.events_bytes },
    });
    assert.equal(readFileSync(out).subarray(0, 10).toString("hex"), "1f8b08000000000000ff");
  });
});
