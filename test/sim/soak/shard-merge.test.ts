import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, type TestContext, test } from "node:test";
import { fileURLToPath } from "node:url";
import { mergeSoakReports } from "../../../src/sim/soak/merge.js";
import { parseSoakReport, serializeSoakReport, soakReportProblems } from "../../../src/sim/soak/report.js";
import { runSoak } from "../../../src/sim/soak/run.js";
import { parseShard, shardSize } from "../../../src/sim/soak/shard.js";
import { loadBundle } from "../../../src/sim/target/load.js";
import { runAssay } from "../../run-assay.js";
import { tempDir } from "../../temp-dir.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const DEMO = join(ROOT, "examples/demo-agent");
const ASSAY = join(ROOT, "bin/assay");

const dir = (t: TestContext) => tempDir("assay-shard-", t);

const assay = (...args: string[]) => runAssay(args);

describe("--shard i/n and merge", () => {
  test("parseShard and shardSize", () => {
    assert.deepEqual(parseShard("2/3"), { index: 2, count: 3 });
    for (const bad of ["0/3", "4/3", "1/0", "a/b", "1", "-1/2"]) {
      assert.throws(
        () => parseShard(bad),
        (e: { code?: string }) => e.code === "usage",
        bad,
      );
    }
    assert.equal(shardSize(10, { index: 1, count: 3 }) + shardSize(10, { index: 2, count: 3 }), 7);
    assert.equal(shardSize(10, { index: 3, count: 3 }), 3);
    assert.equal(shardSize(1, { index: 2, count: 3 }), 0);
  });

  for (const trialLimit of [undefined, 150]) {
    test(`shards 1..3 merged equal one run byte for byte (trial limit ${trialLimit ?? "default"})`, async () => {
      const bundle = await loadBundle(DEMO);
      const base = {
        bundle,
        iterations: 3000,
        seed: 18446744073709551557n,
        assayVersion: "test",
        deterministic: true,
        ...(trialLimit === undefined ? {} : { trialLimit }),
      };
      const whole = serializeSoakReport((await runSoak(base)).report);
      const shards = [];
      for (const index of [3, 1, 2]) {
        const { report } = await runSoak({ ...base, shard: { index, count: 3 } });
        assert.deepEqual(soakReportProblems(report), []);
        assert.equal(report.summary.thresholds_used.trials_run, 1000);
        // Through the file format, as `sim merge` reads it.
        shards.push({ where: `s${index}.json`, report: parseSoakReport(serializeSoakReport(report)) });
      }
      const merged = mergeSoakReports(shards);
      assert.equal(serializeSoakReport(merged.report), whole);
      assert.equal(merged.verdict.exit, (await runSoak(base)).verdict.exit);
      assert.ok(!whole.includes('"shard"'));
      if (trialLimit !== undefined) assert.ok(whole.includes('"iterations_sampled"'));
    });
  }
});

describe("assay sim merge (CLI)", () => {
  test("shards merged by the CLI equal the single run; missing, duplicate and mismatched shards exit 2", async (t) => {
    const d = dir(t);
    const soak = (out: string, seed: string, ...extra: string[]) =>
      assay(
        "sim",
        "soak",
        "--target",
        DEMO,
        "-n",
        "2000",
        "--seed",
        seed,
        "--trial-limit",
        "300",
        "--report",
        out,
        "--deterministic",
        ...extra,
      );
    const whole = join(d, "whole.json");
    assert.equal(soak(whole, "9").code, 1);
    const shard = (i: number, seed = "9") => {
      const out = join(d, `s${i}-${seed}.json`);
      // warn: a shard's own verdict does not stop the job; the merge gates.
      const r = spawnSync(
        process.execPath,
        [
          ASSAY,
          "sim",
          "soak",
          "--target",
          DEMO,
          "-n",
          "2000",
          "--seed",
          seed,
          "--trial-limit",
          "300",
          "--report",
          out,
          "--deterministic",
          "--shard",
          `${i}/3`,
        ],
        { encoding: "utf8", env: { ...process.env, ASSAY_SOAK_GATE: "warn" } },
      );
      assert.equal(r.status, 0, r.stderr);
      return out;
    };
    const [s1, s2, s3] = [shard(1), shard(2), shard(3)] as [string, string, string];
    const merged = join(d, "merged.json");
    const r = assay("sim", "merge", s3, s1, s2, "--report", merged);
    assert.equal(r.code, 1, r.err);
    assert.equal(readFileSync(merged, "utf8"), readFileSync(whole, "utf8"));
    assert.match(r.out, /verdict {4}FAIL/);

    const other = shard(3, "10");
    const junk = join(d, "junk.json");
    writeFileSync(junk, "{not json");
    for (const [name, files] of [
      ["missing", [s1, s2]],
      ["duplicate", [s1, s2, s2, s3]],
      ["mismatched seed", [s1, s2, other]],
      ["not a shard report", [whole]],
      ["not JSON", [s1, s2, junk]],
    ] as const) {
      const m = assay("sim", "merge", ...files, "--report", join(d, "bad.json"));
      assert.equal(m.code, 2, `${name}: ${m.err}`);
      assert.equal(m.err.trim().split("\n").length, 1, `${name}: ${m.err}`);
    }
    assert.equal(
      assay("sim", "soak", "--target", DEMO, "-n", "10", "--report", junk, "--shard", "4/3").code,
      2,
    );
  });
});
