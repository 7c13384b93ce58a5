import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { AssayError } from "../../../src/lib/errors.js";
import type { HistoryReport } from "../../../src/sim/readiness/history.js";
import { defaultReadinessPolicy } from "../../../src/sim/readiness/policy.js";
import { assessReadiness, type ReadinessResult } from "../../../src/sim/readiness/readiness.js";
import { serializeReadiness } from "../../../src/sim/readiness/report.js";
import type { SoakReport } from "../../../src/sim/soak/report.js";
import { runSoak } from "../../../src/sim/soak/run.js";
import { wilsonInterval } from "../../../src/sim/stats/wilson.js";
import { loadBundle } from "../../../src/sim/target/load.js";
import { tempDir } from "../../temp-dir.js";
import { freshProcessStdout, repoModule } from "../fresh-process.js";
import { assess, copy, DEMO, history, META, soakReports, steadyBundle } from "./fixtures.js";

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
  dir = tempDir("assay-readiness-");
  steady = await soakReports(steadyBundle(dir), 24);
  demo = await soakReports(DEMO, 20, { iterations: 200 });
});

after(() => rmSync(dir, { recursive: true, force: true }));

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
    const b = await loadBundle(steadyBundle(tempDir("assay-readiness-", t)));
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

  test("deterministic: the same bytes in a fresh process, from the soaks on, and for the reports in any order", () => {
    const h = history(demo);
    const here = serializeReadiness(assess(h));
    // The fresh process runs the same soaks (seeds 1..20, --deterministic) and judges them.
    const fresh = freshProcessStdout(`
import { soakReports, DEMO, history } from ${repoModule("test/sim/readiness/fixtures.ts")};
import { defaultReadinessPolicy } from ${repoModule("src/sim/readiness/policy.ts")};
import { assessReadiness } from ${repoModule("src/sim/readiness/readiness.ts")};
import { serializeReadiness } from ${repoModule("src/sim/readiness/report.ts")};
const reports = await soakReports(DEMO, 20, { iterations: 200 });
const result = assessReadiness(history(reports), defaultReadinessPolicy(), ${JSON.stringify(META)});
process.stdout.write(serializeReadiness(result));
`);
    assert.equal(fresh, here);
    assert.equal(serializeReadiness(assess([...h].reverse())), here);
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
