import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { AssayError } from "../../src/lib/errors.js";
import { loadBundle } from "../../src/sim/bundle.js";
import { assessReadiness, type ReadinessResult } from "../../src/sim/readiness.js";
import { type HistoryReport, readHistory } from "../../src/sim/readiness-history.js";
import {
  DEFAULT_READINESS_THRESHOLDS,
  defaultReadinessPolicy,
  parseReadinessPolicy,
  type ReadinessPolicy,
} from "../../src/sim/readiness-policy.js";
import { readinessProblems, serializeReadiness } from "../../src/sim/readiness-report.js";
import { runSoak } from "../../src/sim/soak.js";
import { type SoakReport, serializeSoakReport } from "../../src/sim/soak-report.js";
import { wilsonInterval } from "../../src/sim/wilson.js";
import { readSchema } from "../read-schema.js";
import {
  copy,
  DEMO,
  soakReports,
  steadyBundle,
  tempDir,
  timed,
  UPSTREAM_POLICY,
  writeHistory,
} from "./readiness-fixtures.js";

const META = { assayVersion: "test", directory: "history" };

/** Reports as a history (in memory): run i on day i, `minutes(i)` long. */
function history(
  reports: readonly SoakReport[],
  opts: { everyDays?: number; minutes?: (i: number) => number } = {},
): HistoryReport[] {
  return reports.map((r, i) => ({
    file: `run-${String(i).padStart(2, "0")}.json`,
    report: timed(r, i, opts.everyDays ?? 1, opts.minutes),
  }));
}

function assess(h: HistoryReport[], policy: ReadinessPolicy = defaultReadinessPolicy()): ReadinessResult {
  const r = assessReadiness(h, policy, META);
  assert.deepEqual(readinessProblems(r), [], "the result matches soak-readiness-v1");
  return r;
}

function criterion(r: ReadinessResult, id: string) {
  const c = r.criteria.find((x) => x.id === id);
  assert.ok(c, `criterion ${id}`);
  return c;
}

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AssayError, String(err));
    return err.code;
  }
  assert.fail("expected an AssayError");
}

let steady: SoakReport[] = [];
let demo: SoakReport[] = [];
let dir = "";

before(async () => {
  dir = await mkdtemp(join(tmpdir(), "assay-readiness-"));
  steady = await soakReports(steadyBundle(dir), 24);
  demo = await soakReports(DEMO, 20, { iterations: 200 });
});

after(() => rm(dir, { recursive: true, force: true }));

describe("assessReadiness", () => {
  test("ready: 15 daily runs of an agent that never slips, 10 minutes each (exit 0)", () => {
    const r = assess(history(steady.slice(0, 15)));
    assert.equal(r.verdict, "ready");
    assert.equal(r.exit_code, 0);
    assert.deepEqual(r.reasons, []);
    assert.deepEqual(
      r.criteria.map((c) => [c.id, c.status]),
      [
        ["runs_observed", "met"],
        ["span_days", "met"],
        ["pass_rate", "met"],
        ["ci95_lower", "met"],
        ["infra_error_rate", "met"],
        ["flake_rate", "met"],
        ["median_duration_minutes", "met"],
        ["p95_duration_minutes", "met"],
      ],
    );
    assert.equal(criterion(r, "runs_observed").observed, 15);
    assert.equal(criterion(r, "span_days").observed, 14);
    assert.equal(criterion(r, "pass_rate").observed, 1);
    assert.equal(criterion(r, "ci95_lower").observed, wilsonInterval(1500, 1500)[0]);
    assert.equal(criterion(r, "flake_rate").observed, 0);
    assert.equal(r.flakes.scenarios_observed, 5);
    assert.equal(criterion(r, "median_duration_minutes").observed, 10);
    assert.ok(r.criteria.every((c) => c.explanation.length > 0 && !c.explanation.includes("\n")));
  });

  test("the window: the most recent 20 of 24 runs by started_at_utc, listed oldest first", () => {
    // Files in reverse order of time: the window follows started_at_utc, not file names.
    const h = history(steady).reverse();
    const r = assess(h);
    assert.equal(r.history.reports_read, 24);
    assert.equal(r.history.runs_considered, 20);
    assert.equal(r.runs[0]?.started_at_utc, "2026-01-05T00:00:00Z");
    assert.equal(r.runs[19]?.started_at_utc, "2026-01-24T00:00:00Z");
    assert.equal(criterion(r, "span_days").observed, 19);
    assert.match(criterion(r, "runs_observed").explanation, /the most recent 20 of 24 runs/);
  });

  test("not ready: the demo agent slips in every scenario, so every scenario is flaky (exit 1)", () => {
    const r = assess(history(demo));
    assert.equal(r.verdict, "not_ready");
    assert.equal(r.exit_code, 1);
    const flake = criterion(r, "flake_rate");
    assert.equal(flake.status, "not_met");
    assert.equal(flake.observed, 1);
    assert.equal(r.flakes.flaky.length, 5);
    assert.deepEqual(
      r.flakes.flaky.map((f) => f.scenario),
      ["bounded-research", "fetch-guide", "read-docs", "stay-in-workspace", "write-notes"],
    );
    // Pooled counts are the sum of the runs' own counts.
    const pass = demo.reduce((s, x) => s + Number(x.summary.thresholds_used.pass_count), 0);
    const fail = demo.reduce((s, x) => s + Number(x.summary.thresholds_used.fail_count), 0);
    assert.equal(criterion(r, "pass_rate").observed, pass / (pass + fail));
    assert.deepEqual(r.reasons, [`flake_rate: ${flake.explanation}`]);
  });

  test("insufficient data: 10 runs, or 14 runs spanning 13 days (exit 2)", () => {
    const few = assess(history(steady.slice(0, 10)));
    assert.equal(few.verdict, "insufficient_data");
    assert.equal(few.exit_code, 2);
    assert.equal(criterion(few, "runs_observed").status, "not_met");

    const short = assess(history(steady.slice(0, 14)));
    assert.equal(short.verdict, "insufficient_data");
    assert.equal(criterion(short, "runs_observed").status, "met");
    assert.equal(criterion(short, "span_days").status, "not_met");
    assert.equal(criterion(short, "span_days").observed, 13);
  });

  test("insufficient data wins over a failed threshold; an empty history has no data at all", () => {
    const r = assess(history(demo.slice(0, 5)));
    assert.equal(r.verdict, "insufficient_data");
    assert.equal(criterion(r, "flake_rate").status, "not_met");

    const empty = assess([]);
    assert.equal(empty.verdict, "insufficient_data");
    assert.equal(empty.runs.length, 0);
    assert.equal(criterion(empty, "runs_observed").observed, 0);
    for (const id of ["span_days", "pass_rate", "ci95_lower", "flake_rate", "median_duration_minutes"])
      assert.equal(criterion(empty, id).status, "no_data", id);
  });

  test("durations: median, and p95 by nearest rank", () => {
    const slow = assess(history(steady.slice(0, 20), { minutes: () => 25 }));
    assert.equal(slow.verdict, "not_ready");
    assert.equal(criterion(slow, "median_duration_minutes").status, "not_met");
    assert.equal(criterion(slow, "median_duration_minutes").observed, 25);

    // One slow run in 20 is the top 5%: p95 (the 19th of 20) stays at 10 minutes.
    const one = assess(history(steady.slice(0, 20), { minutes: (i) => (i === 3 ? 40 : 10) }));
    assert.equal(criterion(one, "p95_duration_minutes").observed, 10);
    assert.equal(one.verdict, "ready");
    const two = assess(history(steady.slice(0, 20), { minutes: (i) => (i === 3 || i === 9 ? 40 : 10) }));
    assert.equal(criterion(two, "p95_duration_minutes").observed, 40);
    assert.equal(criterion(two, "p95_duration_minutes").status, "not_met");
    assert.equal(criterion(two, "median_duration_minutes").status, "met");

    // Even count: the median is the mean of the two middle runs.
    const even = assess(history(steady.slice(0, 16), { minutes: (i) => (i < 8 ? 10 : 20) }));
    assert.equal(criterion(even, "median_duration_minutes").observed, 15);
  });

  test("a flake needs a pass and a fail under the same bundle digest", () => {
    const h = history(steady.slice(0, 15));
    const failRead = (r: SoakReport) => {
      const t = r.trials?.find((x) => x.trial_id?.startsWith("read-docs#"));
      assert.ok(t);
      t.outcome = "fail";
      r.summary.thresholds_used.pass_count = Number(r.summary.thresholds_used.pass_count) - 1;
      r.summary.thresholds_used.fail_count = Number(r.summary.thresholds_used.fail_count) + 1;
    };
    // A new bundle version whose read-docs always fails: not a flake, the scenario is just broken.
    const other = h.slice(0, 1).map(({ file, report }) => {
      const r = copy(report);
      r.target.bundle_digest = `sha256:${"0".repeat(64)}`;
      for (const t of r.trials ?? []) if (t.trial_id?.startsWith("read-docs#")) t.outcome = "fail";
      return { file, report: r };
    });
    const split = assess([...other, ...h.slice(1)]);
    assert.equal(criterion(split, "flake_rate").observed, 0);

    // The same digest with one read-docs failure: flaky.
    const same = h.map(({ file, report }, i) => {
      const r = copy(report);
      if (i === 4) failRead(r);
      return { file, report: r };
    });
    const r = assess(same);
    assert.equal(criterion(r, "flake_rate").observed, 1 / 5);
    assert.deepEqual(r.flakes.flaky, [
      { scenario: "read-docs", bundle_digest: steady[0]?.target.bundle_digest, passes: 299, fails: 1 },
    ]);
    assert.equal(r.verdict, "not_ready");
  });

  test("infra errors are excluded from the pass rate and judged by their own rate", () => {
    const h = history(steady.slice(0, 15)).map(({ file, report }, i) => {
      const r = copy(report);
      if (i === 0) {
        r.summary.thresholds_used.pass_count = 80;
        r.summary.thresholds_used.infra_error_count = 20;
      }
      return { file, report: r };
    });
    const r = assess(h);
    assert.equal(criterion(r, "pass_rate").observed, 1);
    assert.equal(criterion(r, "infra_error_rate").observed, 20 / 1500);
    assert.equal(criterion(r, "infra_error_rate").status, "met");
    const strict = defaultReadinessPolicy();
    strict.thresholds.max_infra_error_rate = 0.01;
    assert.equal(assess(h, strict).verdict, "not_ready");
  });

  test("a sampled report makes the flake count a lower bound, and says so", async (t) => {
    const b = await loadBundle(steadyBundle(await tempDir(t)));
    const { report } = await runSoak({
      bundle: b,
      iterations: 100,
      seed: 1n,
      assayVersion: "test",
      trialLimit: 10,
    });
    const r = assess(
      history(
        Array.from({ length: 15 }, (_, i) => ({ ...copy(report), run: { ...report.run, run_id: `r${i}` } })),
      ),
    );
    assert.equal(r.flakes.from_sample, true);
    assert.match(criterion(r, "flake_rate").explanation, /from sampled trials, so a lower bound/);
    assert.equal(r.runs[0]?.sample_rate, 0.1);
  });

  test("deterministic: the same reports in any order give the same bytes", () => {
    const h = history(demo);
    const a = serializeReadiness(assess(h));
    const b = serializeReadiness(assess([...h].reverse()));
    assert.equal(a, b);
  });

  test("refused: the same run twice, two targets, a report without counts", () => {
    const h = history(steady.slice(0, 3));
    const [a, b] = h as [HistoryReport, HistoryReport];
    assert.equal(
      code(() =>
        assessReadiness([a, { file: "copy.json", report: a.report }], defaultReadinessPolicy(), META),
      ),
      "input_invalid",
    );
    const other = copy(b.report);
    other.target.bundle_id = "other-agent@1.0.0";
    assert.equal(
      code(() => assessReadiness([a, { file: b.file, report: other }], defaultReadinessPolicy(), META)),
      "input_invalid",
    );
    const bare = copy(b.report);
    delete bare.summary.thresholds_used.pass_count;
    assert.equal(
      code(() => assessReadiness([a, { file: b.file, report: bare }], defaultReadinessPolicy(), META)),
      "input_invalid",
    );
    // Another version of the same target is the same history.
    const next = copy(b.report);
    next.target.bundle_id = "demo-agent@1.0.1";
    assert.equal(
      assessReadiness([a, { file: b.file, report: next }], defaultReadinessPolicy(), META).runs.length,
      2,
    );
  });
});

describe("readiness policy", () => {
  test("the upstream soak_readiness_policy_v1 file maps onto the thresholds", () => {
    const p = parseReadinessPolicy(readFileSync(UPSTREAM_POLICY, "utf8"), "upstream.json");
    assert.equal(p.format, "upstream");
    assert.equal(p.policy_version, "soak_readiness_policy_v1");
    assert.deepEqual(p.thresholds, {
      ...DEFAULT_READINESS_THRESHOLDS,
      window: 20,
      min_runs: 14,
      min_pass_rate: 0.9,
      max_infra_error_rate: 0.01,
      max_contract_fail_rate: 0.05,
      max_unknown_rate: 0.05,
    });
    const r = assess(history(steady.slice(0, 15)), p);
    assert.equal(r.verdict, "ready");
    assert.deepEqual(
      r.criteria.slice(-2).map((c) => [c.id, c.observed, c.status]),
      [
        ["contract_fail_rate", 0, "met"],
        ["unknown_rate", 0, "met"],
      ],
    );
  });

  test("Assay's format: every key optional, the rest default; YAML or JSON", () => {
    const p = parseReadinessPolicy(
      "schema_version: readiness-policy-v1\nwindow: 10\nmin_runs: 5\nmin_span_days: 3\n",
      "p.yaml",
    );
    assert.equal(p.format, "assay");
    assert.deepEqual(p.thresholds, {
      ...DEFAULT_READINESS_THRESHOLDS,
      window: 10,
      min_runs: 5,
      min_span_days: 3,
    });
    assert.deepEqual(parseReadinessPolicy("{}", "p.json").thresholds, DEFAULT_READINESS_THRESHOLDS);
    const r = assess(history(steady.slice(0, 6)), p);
    assert.equal(r.verdict, "ready");
    assert.equal(r.runs.length, 6);
  });

  test("bad policies: input_invalid at file:line:col", () => {
    const bad = (text: string) => {
      try {
        parseReadinessPolicy(text, "p.yaml");
      } catch (err) {
        assert.ok(err instanceof AssayError);
        assert.equal(err.code, "input_invalid");
        return `${err.where}: ${err.message}`;
      }
      assert.fail("expected an error");
    };
    assert.equal(
      bad("window: 20\nmin_pass_rat: 0.9\n"),
      "p.yaml:2:15: min_pass_rat: unknown key `min_pass_rat`; did you mean `min_pass_rate`?",
    );
    assert.match(bad("min_pass_rate: 1.5\n"), /^p\.yaml:1:16: min_pass_rate: must be <= 1$/);
    assert.match(
      bad("window: 5\nmin_runs: 6\n"),
      /^p\.yaml:2:11: min_runs: 6 runs can never fit in a window of 5$/,
    );
    assert.match(bad("a: [\n"), /^p\.yaml:\d+:\d+: /);
    assert.match(
      bad(
        '{"policy_version": "soak_readiness_policy_v1", "window": {"runs_observed_target": 20}, "thresholds": {}}',
      ),
      /missing required key `runs_observed_minimum`/,
    );
    assert.match(
      bad(
        '{"policy_version": "soak_readiness_policy_v1", "window": {"runs_observed_target": 20, "runs_observed_minimum": 14}, "thresholds": {"succes_rate_min": 0.9}}',
      ),
      /unknown key `succes_rate_min`; did you mean `success_rate_min`\?/,
    );
  });

  test("the schemas' $ids are pinned", () => {
    assert.equal(
      readSchema("readiness-policy.schema.json").$id,
      "https://assay.dev/schemas/readiness-policy.schema.json",
    );
    assert.equal(
      readSchema("soak-readiness.schema.json").$id,
      "https://assay.dev/schemas/soak-readiness.schema.json",
    );
  });
});

describe("readHistory", () => {
  test("reads every *.json in name order and nothing else", async (t) => {
    const dir = await writeHistory(join(await tempDir(t), "h"), steady.slice(0, 3));
    writeFileSync(join(dir, "notes.txt"), "not a report");
    const h = await readHistory(dir);
    assert.deepEqual(
      h.map((x) => x.file),
      ["run-00.json", "run-01.json", "run-02.json"],
    );
    assert.equal(h[0]?.report.run.seed, 1n);
  });

  test("a corrupt, invalid or shard report, or a missing directory: an error naming the file", async (t) => {
    const base = await tempDir(t);
    const fails = async (dir: string, codeWanted: string, where: string) => {
      await assert.rejects(readHistory(dir), (err: unknown) => {
        assert.ok(err instanceof AssayError);
        assert.equal(err.code, codeWanted);
        assert.equal(err.where, where);
        return true;
      });
    };
    const corrupt = await writeHistory(join(base, "corrupt"), steady.slice(0, 2));
    writeFileSync(join(corrupt, "run-01.json"), "{ truncated");
    await fails(corrupt, "input_invalid", join(corrupt, "run-01.json"));

    const invalid = await writeHistory(join(base, "invalid"), steady.slice(0, 2), {
      edit: (r, i) => {
        if (i === 1) (r as { summary: unknown }).summary = { pass_rate: "high" };
      },
    });
    await fails(invalid, "input_invalid", join(invalid, "run-01.json"));

    const b = await loadBundle(DEMO);
    const { report: shard } = await runSoak({
      bundle: b,
      iterations: 50,
      seed: 1n,
      assayVersion: "test",
      shard: { index: 1, count: 2 },
    });
    const shards = join(base, "shards");
    await writeHistory(shards, steady.slice(0, 1));
    writeFileSync(join(shards, "shard-1.json"), serializeSoakReport(shard));
    await fails(shards, "input_invalid", join(shards, "shard-1.json"));

    await fails(join(base, "nope"), "input_unreadable", join(base, "nope"));
  });
});
