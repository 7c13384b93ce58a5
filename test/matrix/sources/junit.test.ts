import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import type { JunitCase, JunitData } from "../../../src/matrix/sources/junit.js";
import { soakJunit } from "../../../src/report/junit.js";
import { ScenarioResults } from "../../../src/report/scenario-results.js";
import { runSoak } from "../../../src/sim/soak/run.js";
import { loadBundle } from "../../../src/sim/target/load.js";
import { ROOT } from "../../run-assay.js";
import { suiteTempDir } from "../../temp-dir.js";
import { readAs, refused } from "./helpers.js";

const junit = (data: Record<string, unknown>) => data as unknown as JunitData;

describe("junit: our writer (`assay sim soak --junit`)", () => {
  const dir = suiteTempDir("assay-matrix-junit-");

  test("a real soak's JUnit: its zone-less start read as UTC, counts from the attributes", async () => {
    const bundle = await loadBundle(join(ROOT, "examples/demo-agent"));
    const tallies = new ScenarioResults(bundle.target.scenarios);
    const { report } = await runSoak({
      bundle,
      iterations: 60,
      seed: 3n,
      assayVersion: "test",
      clock: { nowIso: () => "2026-12-06T20:31:54.603Z", monotonicNs: () => 0n },
      onTrial: (t) => tallies.add(t),
    });
    const a = await readAs("junit", dir, "soak.xml", soakJunit(report, tallies.results()));
    assert.equal(a.timestamp, "2026-12-06T20:31:54.603Z");
    assert.equal(
      a.timestamp_source,
      'timestamp of `<testsuite name="demo-agent@1.0.0">`; it names no zone, so it is read as UTC',
    );
    assert.equal(a.recorded, null);
    const d = junit(a.data);
    const used = report.summary.thresholds_used as Record<string, number>;
    assert.deepEqual(Object.keys(d), [
      "tests",
      "failures",
      "errors",
      "skipped",
      "time",
      "timestamp",
      "suites",
    ]);
    assert.equal(d.tests, 60);
    assert.equal(d.failures, used.fail_count);
    assert.equal(d.errors, used.infra_error_count);
    assert.equal(d.skipped, 0, "recomputed: <testsuites> has no `skipped`");
    assert.equal(d.timestamp, a.timestamp);
    assert.equal(d.suites.length, 1);
    const [suite] = d.suites;
    assert.ok(suite);
    assert.equal(suite.name, "demo-agent@1.0.0");
    assert.deepEqual(
      suite.cases.map((c) => c.name),
      tallies.results().map((s) => s.id),
    );
    for (const [i, s] of tallies.results().entries()) {
      const c: JunitCase | undefined = suite.cases[i];
      assert.equal(c?.classname, s.dimension);
      assert.equal(
        c?.status,
        s.fails > 0 ? "fail" : s.infra > 0 ? "error" : s.passes > 0 ? "pass" : "skipped",
      );
      if (c?.status === "fail") assert.equal(c.message, `${s.fails} of ${s.passes + s.fails} trials failed`);
    }
  });

  test("the committed --deterministic sample (test/fixtures/report/demo-soak-500.junit.xml)", async () => {
    const xml = readFileSync(join(ROOT, "test/fixtures/report/demo-soak-500.junit.xml"));
    const a = await readAs("junit", dir, "demo.xml", xml);
    assert.equal(a.timestamp, "1970-01-01T00:00:00Z");
    const d = junit(a.data);
    assert.deepEqual([d.tests, d.failures, d.errors, d.time], [500, 17, 0, 0]);
    const failed = d.suites[0]?.cases.filter((c) => c.status === "fail") ?? [];
    assert.ok(failed.length > 0);
    for (const c of failed) assert.match(c.message ?? "", /^\d+ of \d+ trials failed$/);
  });
});

describe("junit: node's writer (`node --test --test-reporter=junit`)", () => {
  const dir = suiteTempDir("assay-matrix-node-junit-");

  test("nested suites flattened, top-level tests as a suite, counts recomputed, no timestamp", async () => {
    writeFileSync(
      join(dir, "tiny.test.mjs"),
      [
        'import { describe, test } from "node:test";',
        'describe("outer", () => {',
        '  test("passes", () => {});',
        '  test("fails <&>", () => { throw new Error("boom & \\"x\\""); });',
        '  describe("inner", () => {',
        '    test("skipped", { skip: "not today" }, () => {});',
        "  });",
        "});",
        'test("top", () => {});',
        "",
      ].join("\n"),
    );
    // Without NODE_TEST_CONTEXT, which would make the child report to this run instead.
    const { NODE_TEST_CONTEXT: _ctx, ...env } = process.env;
    const run = spawnSync(process.execPath, ["--test", "--test-reporter=junit", "tiny.test.mjs"], {
      cwd: dir,
      encoding: "utf8",
      env: { ...env, NODE_OPTIONS: "" },
    });
    assert.ok(run.stdout.includes("<testsuites>"), run.stderr);
    const a = await readAs("junit", dir, "node.xml", run.stdout);
    assert.equal(a.timestamp, null);
    assert.equal(a.timestamp_source, "no `<testsuites>` or `<testsuite>` has a `timestamp` attribute");
    const d = junit(a.data);
    assert.deepEqual([d.tests, d.failures, d.errors, d.skipped], [4, 1, 0, 1]);
    assert.equal(typeof d.time, "number");
    assert.deepEqual(
      d.suites.map((s) => [
        s.name,
        s.tests,
        s.failures,
        s.skipped,
        s.cases.map((c) => `${c.name}:${c.status}`),
      ]),
      [
        ["outer", 3, 1, 1, ["passes:pass", "fails <&>:fail"]],
        ["inner", 1, 0, 1, ["skipped:skipped"]],
        ["", 1, 0, 0, ["top:pass"]],
      ],
    );
    const failed = d.suites[0]?.cases[1];
    assert.match(failed?.message ?? "", /^boom & /);
    assert.equal(d.suites[1]?.cases[0]?.message, "not today");
  });
});

describe("junit: reading and refusing", () => {
  const dir = suiteTempDir("assay-matrix-junit-edge-");

  test("the earliest of several zoned timestamps; entities, references and CDATA decoded; a bare <testsuite>", async () => {
    const xml = `<?xml version="1.0"?>
<testsuites>
  <testsuite name="a" timestamp="2026-12-06T22:00:00+02:00"><testcase name="x &amp; y&#10;z" classname="k"><error message="e &#x41;&lt;"/></testcase></testsuite>
  <testsuite name="b" timestamp="2026-12-06T21:00:00.25+02:00"><testcase name="w"><failure><![CDATA[first <line> &amp;
second]]></failure></testcase></testsuite>
</testsuites>`;
    const a = await readAs("junit", dir, "zoned.xml", xml);
    assert.equal(a.timestamp, "2026-12-06T19:00:00.25Z");
    assert.equal(a.timestamp_source, 'timestamp of `<testsuite name="b">`, the earliest of 2');
    const d = junit(a.data);
    assert.deepEqual([d.tests, d.failures, d.errors, d.skipped, d.time], [2, 1, 1, 0, null]);
    assert.deepEqual(d.suites[0]?.cases[0], {
      name: "x & y\nz",
      classname: "k",
      status: "error",
      message: "e A<",
    });
    assert.deepEqual(d.suites[1]?.cases[0], {
      name: "w",
      classname: "",
      status: "fail",
      message: "first <line> &amp;",
    });
    const single = await readAs(
      "junit",
      dir,
      "single.xml",
      '<testsuite name="s" tests="3" time="1.5"><testcase name="t"/></testsuite>',
    );
    assert.deepEqual(
      [junit(single.data).tests, junit(single.data).time, junit(single.data).suites.length],
      [3, 1.5, 1],
    );
  });

  test("refused: not JUnit, a DTD, a syntax error with line:col, a bad count or timestamp", async () => {
    const other = await refused("junit", dir, "html.xml", "<html><body/></html>", "html.xml");
    assert.match(other.message, /not JUnit XML: the root element is `<html>`/);
    await refused("junit", dir, "json.xml", '{"tests": 1}', "json.xml:1:1");
    await refused(
      "junit",
      dir,
      "broken.xml",
      '<testsuites>\n  <testsuite name="a">\n</testsuites>\n',
      "broken.xml:3:1",
    );
    const lol = `<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>
<testsuites><testsuite name="&lol2;"/></testsuites>`;
    const dtd = await refused("junit", dir, "dtd.xml", lol, "dtd.xml");
    assert.match(dtd.message, /DOCTYPE/);
    await refused("junit", dir, "count.xml", '<testsuite name="s" tests="many"/>', "count.xml");
    await refused("junit", dir, "when.xml", '<testsuite name="s" timestamp="last tuesday"/>', "when.xml");
    await refused("junit", dir, "utf16.xml", Buffer.from([0xff, 0xfe, 0x3c, 0x00, 0xc3, 0x28]), "utf16.xml");
  });
});
