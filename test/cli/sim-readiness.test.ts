import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { readinessProblems } from "../../src/sim/readiness/report.js";
import type { SoakReport } from "../../src/sim/soak/report.js";
import { runAssay } from "../run-assay.js";
import { DEMO, soakReports, steadyBundle, UPSTREAM_POLICY, writeHistory } from "../sim/readiness/fixtures.js";
import { suiteTempDir } from "../temp-dir.js";

// Runs the built CLI (dist/): `npm run build` first.

const assay = (...args: string[]) => runAssay(args);

const base = suiteTempDir("assay-readiness-cli-");
let ready = "";
let notReady = "";
let few = "";

before(async () => {
  const steady: SoakReport[] = await soakReports(steadyBundle(base), 15);
  ready = await writeHistory(join(base, "ready"), steady);
  notReady = await writeHistory(join(base, "not-ready"), await soakReports(DEMO, 15, { iterations: 200 }));
  few = await writeHistory(join(base, "few"), steady.slice(0, 10));
});

describe("assay sim readiness", () => {
  test("ready: exit 0, a table explaining every criterion, the readiness file written", () => {
    const out = join(base, "ready.json");
    const r = assay("sim", "readiness", "--history", ready, "--out", out);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, "");
    assert.match(r.out, /^met {6}runs_observed {12}15 >= 14$/m);
    assert.match(r.out, /^met {6}flake_rate {15}0\.00% <= 5\.00%$/m);
    assert.match(r.out, /^verdict {3}READY$/m);
    assert.match(r.out, new RegExp(`^readiness ${out}$`, "m"));
    const file = JSON.parse(readFileSync(out, "utf8"));
    assert.deepEqual(readinessProblems(file), []);
    assert.equal(file.verdict, "ready");
    assert.equal(file.exit_code, 0);
    assert.equal(file.criteria.length, 8);
    assert.equal(file.runs.length, 15);
  });

  test("--json prints the same bytes as --out; the run is deterministic", () => {
    const out = join(base, "again.json");
    const a = assay("sim", "readiness", "--history", ready, "--json", "--out", out);
    const b = assay("sim", "readiness", "--history", ready, "--json");
    assert.equal(a.code, 0);
    assert.equal(a.out, readFileSync(out, "utf8"));
    assert.equal(a.out, b.out);
  });

  test("not ready: exit 1, the failed criterion named, the file written before the exit", () => {
    const out = join(base, "not-ready.json");
    const r = assay("sim", "readiness", "--history", notReady, "--out", out);
    assert.equal(r.code, 1, r.err);
    assert.match(r.out, /^not_met {2}flake_rate {15}100\.00% <= 5\.00%$/m);
    assert.match(r.out, /^verdict {3}NOT READY: flake_rate$/m);
    assert.equal(JSON.parse(readFileSync(out, "utf8")).verdict, "not_ready");
  });

  test("insufficient data: exit 2, and the file still says why", () => {
    const out = join(base, "few.json");
    const r = assay("sim", "readiness", "--history", few, "--out", out);
    assert.equal(r.code, 2, r.err);
    assert.match(r.out, /^verdict {3}INSUFFICIENT DATA: runs_observed, span_days$/m);
    const file = JSON.parse(readFileSync(out, "utf8"));
    assert.equal(file.verdict, "insufficient_data");
    assert.equal(file.exit_code, 2);
  });

  test("the upstream soak_readiness_policy_v1 file is accepted and its thresholds applied", () => {
    const r = assay("sim", "readiness", "--history", ready, "--policy", UPSTREAM_POLICY, "--json");
    assert.equal(r.code, 0, r.err);
    const file = JSON.parse(r.out);
    assert.equal(file.policy.format, "upstream");
    assert.equal(file.policy.thresholds.min_pass_rate, 0.9);
    assert.equal(file.policy.thresholds.max_infra_error_rate, 0.01);
    assert.deepEqual(file.criteria.map((c: { id: string }) => c.id).slice(-2), [
      "contract_fail_rate",
      "unknown_rate",
    ]);
  });

  test("a YAML policy relaxes the window: 10 runs over 9 days become enough", () => {
    const policy = join(base, "small.yaml");
    writeFileSync(policy, "window: 10\nmin_runs: 10\nmin_span_days: 9\n");
    const r = assay("sim", "readiness", "--history", few, "--policy", policy);
    assert.equal(r.code, 0, r.out + r.err);
  });

  test("a corrupt report: exit 2, one line naming the file, no readiness file", () => {
    const dir = join(base, "corrupt");
    const out = join(base, "corrupt.json");
    spawnSync("cp", ["-r", ready, dir]);
    writeFileSync(join(dir, "run-07.json"), '{"schema_version": "soak-report-v1", ');
    const r = assay("sim", "readiness", "--history", dir, "--out", out);
    assert.equal(r.code, 2);
    assert.equal(r.out, "");
    assert.match(r.err, new RegExp(`^assay: ${join(dir, "run-07.json")}: not JSON: .*\\n$`));
    assert.equal(existsSync(out), false);
  });

  test("a bad policy, a missing directory, a missing --history: exit 2", () => {
    const policy = join(base, "bad.yaml");
    writeFileSync(policy, "min_pass_rate: 2\n");
    const bad = assay("sim", "readiness", "--history", ready, "--policy", policy);
    assert.equal(bad.code, 2);
    assert.equal(bad.err, `assay: ${policy}:1:16: min_pass_rate: must be <= 1\n`);
    const missing = assay("sim", "readiness", "--history", join(base, "nope"));
    assert.equal(missing.code, 2);
    assert.match(missing.err, /cannot read history directory: ENOENT/);
    assert.equal(assay("sim", "readiness").code, 2);
  });

  test("--help names the exit codes", () => {
    const r = assay("sim", "readiness", "--help");
    assert.equal(r.code, 0);
    assert.match(r.out, /--history <dir>/);
    assert.match(r.out, /Exit codes: 0 ready; 1 not ready/);
  });
});
