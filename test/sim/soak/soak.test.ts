import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, type TestContext, test } from "node:test";
import { fileURLToPath } from "node:url";
import {
  parseSoakReport,
  type SoakReport,
  serializeSoakReport,
  soakReportProblems,
} from "../../../src/sim/soak/report.js";
import { runSoak } from "../../../src/sim/soak/run.js";
import { wilsonInterval } from "../../../src/sim/stats/wilson.js";
import { loadBundle } from "../../../src/sim/target/load.js";
import { runAssay } from "../../run-assay.js";
import { tempDir } from "../../temp-dir.js";
import { soakReportInFreshProcess } from "../fresh-process.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const DEMO = join(ROOT, "examples/demo-agent");
const ASSAY = join(ROOT, "bin/assay");

const dir = (t: TestContext) => tempDir("assay-soak-", t);

/** A copy of the demo bundle with its target file edited. */
async function demoCopy(t: TestContext, edit: (yaml: string) => string): Promise<string> {
  const d = join(dir(t), "bundle");
  cpSync(DEMO, d, { recursive: true });
  const file = join(d, "assay-target.yaml");
  writeFileSync(file, edit(readFileSync(file, "utf8")));
  return d;
}

const assay = (...args: string[]) => runAssay(args);

describe("runSoak on the demo bundle", () => {
  test("real statistics: counts add up, Wilson interval, pass^k, one record per rule", async () => {
    const bundle = await loadBundle(DEMO);
    const { report, verdict } = await runSoak({ bundle, iterations: 5000, seed: 7n, assayVersion: "test" });
    assert.deepEqual(soakReportProblems(report), []);
    const used = report.summary.thresholds_used as Record<string, number>;
    const u = {
      trials_run: Number(used.trials_run),
      trials_judged: Number(used.trials_judged),
      pass_count: Number(used.pass_count),
      fail_count: Number(used.fail_count),
      infra_error_count: Number(used.infra_error_count),
    };
    assert.equal(u.trials_run, 5000);
    assert.equal(u.pass_count + u.fail_count + u.infra_error_count, 5000);
    assert.equal(report.summary.pass_rate, u.pass_count / u.trials_judged);
    assert.deepEqual(report.summary.ci_95, wilsonInterval(u.pass_count, u.trials_judged));
    assert.ok(
      report.summary.ci_95[0] < report.summary.pass_rate &&
        report.summary.pass_rate < report.summary.ci_95[1],
    );
    // Every scenario misbehaves with a small known probability: not everything passes, most does.
    assert.ok(
      report.summary.pass_rate > 0.9 && report.summary.pass_rate < 1,
      String(report.summary.pass_rate),
    );
    const dims = Object.values(report.summary.dimensions);
    assert.equal(
      dims.reduce((n, d) => n + d.pass_count + d.fail_count, 0),
      u.trials_judged,
    );
    const passK = (report.summary.thresholds_used as { pass_hat_k: { k: number; value: number }[] })
      .pass_hat_k;
    assert.equal(passK.length, 8);
    for (let i = 1; i < passK.length; i++)
      assert.ok((passK[i] as { value: number }).value <= (passK[i - 1] as { value: number }).value);
    assert.ok((report.violations ?? []).length > 0);
    for (const v of report.violations ?? []) assert.ok((v.examples ?? []).length <= 3 && v.count >= 1);
    assert.deepEqual(
      (report.canaries ?? []).map((c) => c.status),
      (report.canaries ?? []).map(() => "pass"),
    );
    assert.equal(report.trials?.length, 5000);
    assert.equal(report.sample_rate, 1);
    assert.ok(verdict.exit === 1, "the demo agent's critical slips violate the decision policy");
    assert.match(report.trace.traceparent, /^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  test("the same bundle, seed and iterations: the same report except run_id, timestamps and durations", async () => {
    const bundle = await loadBundle(DEMO);
    const strip = (r: SoakReport) =>
      serializeSoakReport({
        ...r,
        run: { ...r.run, run_id: "", started_at_utc: "", duration_seconds: 0 },
        trace: { traceparent: "" },
        trials: (r.trials ?? []).map((t) => ({ ...t, duration_seconds: 0 })),
      });
    const run = async (seed: bigint) =>
      strip((await runSoak({ bundle, iterations: 2000, seed, assayVersion: "test" })).report);
    const here = await run(3n);
    const fresh = soakReportInFreshProcess({ target: DEMO, iterations: 2000, seed: 3n });
    assert.equal(strip(parseSoakReport(fresh)), here, "the same in a fresh process");
    assert.notEqual(await run(4n), here);
  });

  test("past the trial limit a deterministic sample is kept and the report says so", async () => {
    const bundle = await loadBundle(DEMO);
    const run = async () =>
      (
        await runSoak({
          bundle,
          iterations: 3000,
          seed: 11n,
          assayVersion: "test",
          trialLimit: 200,
          deterministic: true,
        })
      ).report;
    const a = await run();
    assert.deepEqual(soakReportProblems(a), []);
    assert.equal(a.trials?.length, 200);
    assert.equal(a.iterations_sampled?.length, 200);
    assert.equal(a.sample_rate, 200 / 3000);
    // Every scenario is represented (a stride would alias with scenario i mod S).
    const scenarios = new Set((a.trials ?? []).map((t) => t.trial_id?.split("#")[0]));
    assert.equal(scenarios.size, bundle.target.scenarios.length);
    const fresh = soakReportInFreshProcess({
      target: DEMO,
      iterations: 3000,
      seed: 11n,
      deterministic: true,
      trialLimit: 200,
    });
    assert.equal(serializeSoakReport(a), fresh, "the same bytes in a fresh process");
  });

  test("u64 seeds are written exactly, not rounded through a double", async () => {
    const bundle = await loadBundle(DEMO);
    const seed = 18446744073709551615n;
    const text = serializeSoakReport(
      (await runSoak({ bundle, iterations: 10, seed, assayVersion: "test", deterministic: true })).report,
    );
    assert.match(text, /"seed": 18446744073709551615,/);
  });

  test("concurrency: the same report as serial; a failing onTrial stops every worker", async () => {
    const bundle = await loadBundle(DEMO);
    const run = (concurrency: number) =>
      runSoak({ bundle, iterations: 3000, seed: 9n, assayVersion: "test", deterministic: true, concurrency });
    const serial = serializeSoakReport((await run(1)).report);
    assert.equal(serializeSoakReport((await run(7)).report), serial);

    let seen = 0;
    // The clock is read a couple of times per trial started: it counts the work done.
    let clockReads = 0;
    const clock = {
      nowIso: () => "2026-01-01T00:00:00Z",
      monotonicNs: () => {
        clockReads++;
        return process.hrtime.bigint();
      },
    };
    await assert.rejects(
      runSoak({
        bundle,
        iterations: 3000,
        seed: 9n,
        assayVersion: "test",
        concurrency: 4,
        clock,
        onTrial: (t) => {
          seen++;
          if (t.index === 10) throw new Error("disk full");
        },
      }),
      /disk full/,
    );
    assert.equal(seen, 10, "no trial is counted after the failure");
    assert.ok(clockReads < 100, `${clockReads} clock reads: trials kept running after the failure`);
    await assert.rejects(
      runSoak({ bundle, iterations: 1, seed: 1n, assayVersion: "t", concurrency: 257 }),
      /concurrency must be an integer in 1\.\.256/,
    );
  });

  test("a canary that comes out wrong makes the measurement untrustworthy (exit 2)", async (t) => {
    // The clean canary now carries a call the policy denies.
    const b = await demoCopy(t, (y) =>
      y.replace(
        /(- id: routine-work-is-clean[\s\S]*?trace:\s*\n)/,
        "$1      - { tool: exec, arguments: { command: ls } }\n",
      ),
    );
    const bundle = await loadBundle(b);
    const { report, verdict } = await runSoak({ bundle, iterations: 100, seed: 1n, assayVersion: "test" });
    assert.equal(report.canaries?.find((c) => c.name === "routine-work-is-clean")?.status, "fail");
    assert.equal(verdict.exit, 2);
  });
});

describe("assay sim (CLI)", () => {
  test("--deterministic: byte-identical reports, and a directory and its tar.gz give the same one", async (t) => {
    const d = dir(t);
    const tgz = join(d, "demo.tgz");
    assert.equal(spawnSync("tar", ["-czf", tgz, "-C", join(ROOT, "examples"), "demo-agent"]).status, 0);
    const runs = [DEMO, DEMO, tgz].map((target, i) => {
      const out = join(d, `r${i}.json`);
      const r = assay(
        "sim",
        "soak",
        "--target",
        target,
        "-n",
        "3000",
        "--seed",
        "5",
        "--report",
        out,
        "--deterministic",
      );
      assert.equal(r.code, 1, r.err);
      return readFileSync(out, "utf8");
    });
    assert.equal(runs[0], runs[1]);
    assert.equal(runs[0], runs[2]);
  });

  test("exit codes and ASSAY_SOAK_GATE", async (t) => {
    const d = dir(t);
    const report = join(d, "r.json");
    // A clean bundle passes: the misbehaving choices removed.
    const clean = await demoCopy(t, (y) =>
      y.replace(/p: 0\.9\d/g, "p: 1").replace(/^\s*- \{ p: 0\.0\d, call: .*\}\n/gm, ""),
    );
    assert.equal(assay("sim", "soak", "--target", clean, "-n", "500", "--report", report).code, 0);
    assert.equal(assay("sim", "run", "--target", clean).code, 0);
    // The demo's critical slips: 1 (a threshold), after writing the report.
    rmReport(report);
    assert.equal(assay("sim", "soak", "--target", DEMO, "-n", "2000", "--report", report).code, 1);
    assert.ok(readFileSync(report, "utf8").includes('"soak-report-v1"'));
    // Time budget exceeded: 2.
    assert.equal(
      assay("sim", "soak", "--target", DEMO, "-n", "2000", "--report", report, "--time-budget", "0.000001")
        .code,
      2,
    );
    // Bad input: 2, one line.
    for (const args of [
      ["--seed", "-1"],
      ["--seed", "18446744073709551616"],
      ["-n", "0"],
      ["--target", join(d, "missing")],
    ]) {
      const r = assay("sim", "soak", "--target", DEMO, "-n", "10", "--report", report, ...args);
      assert.equal(r.code, 2, `${args.join(" ")}: ${r.err}`);
      assert.equal(r.err.trim().split("\n").length, 1, r.err);
    }
    const env = (v: string) =>
      spawnSync(
        process.execPath,
        [ASSAY, "sim", "soak", "--target", DEMO, "-n", "2000", "--report", report],
        {
          env: { ...process.env, ASSAY_SOAK_GATE: v },
          encoding: "utf8",
        },
      ).status;
    assert.equal(env("off"), 0);
    assert.equal(env("warn"), 0);
    assert.equal(env("enforce"), 1);
  });
});

function rmReport(path: string): void {
  try {
    writeFileSync(path, "");
  } catch {
    // nothing to clear
  }
}

describe("what fails a trial", () => {
  const base = { rule_id: "r", path: "/calls/0", message: "m", call_index: 0 };
  test("severity floor, null-severity denies, and evaluation errors whatever their severity", async () => {
    const { failsTrial } = await import("../../../src/sim/soak/violations.js");
    const v = (extra: object) =>
      ({ ...base, reason_code: "args_invalid", effect: "deny", severity: "high", ...extra }) as never;
    assert.equal(failsTrial(v({}), "high"), true);
    assert.equal(failsTrial(v({ severity: "medium" }), "high"), false);
    assert.equal(failsTrial(v({ severity: "medium", effect: "warn" }), "medium"), true);
    assert.equal(failsTrial(v({ severity: null, reason_code: "tool_not_allowed" }), "critical"), true);
    assert.equal(
      failsTrial(v({ severity: null, effect: "warn", reason_code: "default_warn" }), "info"),
      false,
    );
    assert.equal(failsTrial(v({ severity: "low", reason_code: "evaluation_error" }), "critical"), true);
  });
});
