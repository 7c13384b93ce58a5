import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { type ProgressCounts, ProgressReporter, progressLine } from "../../../src/sim/soak/progress.js";
import { tempDir } from "../../temp-dir.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const counts = (done: number, elapsedSeconds: number): ProgressCounts => ({
  done,
  total: 1000,
  pass: done - 3,
  fail: 3,
  infra: 0,
  elapsedSeconds,
});

describe("soak progress", () => {
  test("a line with counts, percentage and an ETA from the rate so far", () => {
    assert.equal(
      progressLine(counts(250, 2)),
      "250/1,000 (25%)  pass 247  fail 3  infra 0  2.0 s  ETA 6.0 s",
    );
    assert.equal(progressLine(counts(1000, 12.4)), "1,000/1,000 (100%)  pass 997  fail 3  infra 0  12 s");
  });

  test("in a log: a plain line at most every interval, and the final state once", () => {
    const out: string[] = [];
    let now = 0;
    const r = new ProgressReporter(
      (t) => out.push(t),
      false,
      () => now,
      { tty_ms: 100, log_ms: 5000 },
    );
    r.update(counts(100, 1));
    now = 1000;
    r.update(counts(200, 2)); // too soon
    now = 6000;
    r.update(counts(600, 6));
    r.end(counts(1000, 9));
    assert.deepEqual(
      out.map((l) => l.split("  ")[0]),
      ["soak 100/1,000 (10%)", "soak 600/1,000 (60%)", "soak 1,000/1,000 (100%)"],
    );
    assert.ok(out.every((l) => l.endsWith("\n") && !l.includes("\r")));
  });

  test("on a terminal: one line redrawn in place, ended with a newline", () => {
    const out: string[] = [];
    let now = 0;
    const r = new ProgressReporter(
      (t) => out.push(t),
      true,
      () => now,
    );
    r.update(counts(100, 1));
    now = 150;
    r.update(counts(300, 2));
    r.end(counts(1000, 3));
    assert.equal(out.length, 4);
    assert.ok(out.slice(0, 3).every((l) => l.startsWith("\r") && l.endsWith("\x1b[K")));
    assert.equal(out[3], "\n");
  });

  test("assay sim soak prints progress on stderr, and --no-progress silences it", (t) => {
    const dir = tempDir("assay-progress-", t);
    const report = join(dir, "r.json");
    const run = (...extra: string[]) =>
      spawnSync(
        process.execPath,
        [
          join(ROOT, "bin/assay"),
          "sim",
          "soak",
          "--target",
          join(ROOT, "examples/demo-agent"),
          "-n",
          "500",
          ...extra,
        ],
        { encoding: "utf8", timeout: 60_000 },
      );
    const withProgress = run("--report", report);
    assert.match(withProgress.stderr, /^soak 500\/500 \(100%\)/m);
    const quiet = run("--report", join(dir, "quiet.json"), "--no-progress");
    assert.equal(quiet.stderr, "");
  });
});
