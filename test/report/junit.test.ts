import assert from "node:assert/strict";
import { existsSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { attr, soakJunit, text } from "../../src/report/junit.js";
import { ScenarioResults } from "../../src/report/scenario-results.js";
import { runSoak } from "../../src/sim/soak/run.js";
import { loadBundle } from "../../src/sim/target/load.js";
import { ROOT, runAssay } from "../run-assay.js";
import { assertStoredText } from "../stored-bytes.js";
import { tempDir } from "../temp-dir.js";

const DEMO = join(ROOT, "examples/demo-agent");

async function demo(iterations: number, seed = 1n) {
  const bundle = await loadBundle(DEMO);
  const tallies = new ScenarioResults(bundle.target.scenarios);
  const { report } = await runSoak({
    bundle,
    iterations,
    seed,
    assayVersion: "0.0.0-test",
    deterministic: true,
    onTrial: (t) => tallies.add(t),
  });
  return { bundle, report, tallies };
}

/** Every element's start tag, as `name attr="value"...` text, in document order. */
function tags(xml: string): string[] {
  return [...xml.matchAll(/<([a-z]+)((?:\s+[a-z_]+="[^"<&]*(?:&[a-z#0-9]+;[^"<&]*)*")*)\s*\/?>/g)].map(
    (m) => `${m[1]}${m[2]}`,
  );
}

describe("soakJunit", () => {
  test("one testsuite for the bundle, one testcase per scenario with its failures", async () => {
    const { bundle, report, tallies } = await demo(2000);
    const xml = soakJunit(report, tallies.results());
    const u = report.summary.thresholds_used as Record<string, number>;
    assert.match(
      xml,
      new RegExp(
        `<testsuite name="demo-agent@1.0.0" tests="${u.trials_run}" failures="${u.fail_count}" errors="0"`,
      ),
    );
    const cases = [...xml.matchAll(/<testcase classname="([^"]*)" name="([^"]*)"/g)].map((m) => [m[1], m[2]]);
    assert.deepEqual(
      cases,
      bundle.target.scenarios.map((s) => [s.dimension, s.id]),
    );
    // The per-scenario failures add up to the report's, and so do the rule counts.
    const failures = [
      ...xml.matchAll(/<failure message="(\d+) of (\d+) trials failed" type="soak_fail">([^<]*)</g),
    ];
    assert.equal(
      failures.reduce((n, m) => n + Number(m[1]), 0),
      u.fail_count,
    );
    const byRule = new Map<string, number>();
    for (const f of failures)
      for (const line of (f[3] as string).split("\n")) {
        const [rule, count] = line.split(" ×") as [string, string];
        byRule.set(rule, (byRule.get(rule) ?? 0) + Number(count));
      }
    for (const v of report.violations ?? []) assert.equal(byRule.get(v.rule_id), v.count, v.rule_id);
    assert.match(
      xml,
      /name="fetch-guide" time="0">\n {6}<failure message="14 of 400 trials failed" type="soak_fail">no-private-egress ×14<\/failure>/,
    );
  });

  test("covers every trial even when the report keeps a sample", async () => {
    const bundle = await loadBundle(DEMO);
    const tallies = new ScenarioResults(bundle.target.scenarios);
    const { report } = await runSoak({
      bundle,
      iterations: 2000,
      seed: 1n,
      assayVersion: "0",
      deterministic: true,
      trialLimit: 5,
      onTrial: (t) => tallies.add(t),
    });
    assert.equal(report.trials?.length, 5);
    const total = tallies.results().reduce((n, s) => n + s.passes + s.fails + s.infra, 0);
    assert.equal(total, 2000);
  });

  test("passing, skipped, expectation and infra-error scenarios", async () => {
    const { report } = await demo(5, 0n);
    const tallies = new ScenarioResults([
      { id: "ok", dimension: "safety" },
      { id: "never", dimension: "control" },
      { id: "unmet", dimension: "correctness" },
      { id: "broken", dimension: "security" },
    ]);
    tallies.add({ scenario: "ok", outcome: "pass", violations: [] });
    tallies.add({ scenario: "unmet", outcome: "fail", error_kind: "expectation_failed", violations: [] });
    tallies.add({
      scenario: "broken",
      outcome: "infra_error",
      error_kind: "driver_error",
      error_message: "boom <&>",
      violations: [],
    });
    tallies.add({ scenario: "broken", outcome: "pass", violations: [] });
    const xml = soakJunit(report, tallies.results());
    assert.match(xml, /<testcase classname="safety" name="ok" time="0"\/>/);
    assert.match(xml, /name="never" time="0">\n {6}<skipped message="no trial ran"\/>/);
    assert.match(
      xml,
      /<failure message="1 of 1 trials failed" type="soak_fail">expectations unmet ×1<\/failure>/,
    );
    assert.match(
      xml,
      /<error message="1 of 2 trials were infra errors" type="infra_error">driver_error: boom &lt;&amp;&gt;<\/error>/,
    );
    assert.throws(() => tallies.add({ scenario: "nope", outcome: "pass", violations: [] }));
  });

  test("hostile names are escaped: nothing breaks out of an attribute or element", async () => {
    const { report } = await demo(5, 0n);
    const hostile = `a"b'c<d>e&f\ng\u0001h\uD800i</testcase><x y="`;
    const tallies = new ScenarioResults([{ id: hostile, dimension: "safety" }]);
    tallies.add({ scenario: hostile, outcome: "fail", violations: [{ rule_id: hostile }] });
    const xml = soakJunit({ ...report, target: { ...report.target, bundle_id: hostile } }, tallies.results());
    assert.ok(!xml.includes(hostile));
    assert.ok(!xml.includes("<x"));
    assert.ok(!xml.includes("\u0001"));
    const escaped = "a&quot;b&apos;c&lt;d&gt;e&amp;f&#10;g\uFFFDh\uFFFDi&lt;/testcase&gt;&lt;x y=&quot;";
    assert.ok(xml.includes(`<testsuite name="${escaped}"`));
    assert.ok(xml.includes(`name="${escaped}"`));
    // Every start tag still parses as name="value" pairs; the element names are ours alone.
    assert.deepEqual([...new Set(tags(xml).map((t) => t.split(/\s/)[0]))].sort(), [
      "failure",
      "properties",
      "property",
      "testcase",
      "testsuite",
      "testsuites",
    ]);
    assert.equal(text("a<b>&c"), "a&lt;b&gt;&amp;c");
    assert.equal(attr('"\t\r'), "&quot;&#9;&#13;");
    assert.equal(text("\u{1F600}"), "\u{1F600}");
  });

  test("deterministic: a seeded --deterministic soak gives the stored XML, byte for byte", async () => {
    const { report, tallies } = await demo(500);
    assertStoredText("report/demo-soak-500.junit.xml", soakJunit(report, tallies.results()));
  });
});

describe("assay sim --sarif --junit", () => {
  test("soak writes both before a non-zero exit", async (t) => {
    const d = tempDir("assay-report-", t);
    const r = runAssay(
      [
        ...["sim", "soak", "--target", DEMO, "-n", "500", "--seed", "1", "--report", join(d, "r.json")],
        ...["--sarif", join(d, "r.sarif"), "--junit", join(d, "r.xml"), "--deterministic"],
      ],
      ROOT,
    );
    assert.equal(r.code, 1, r.err);
    const sarif = JSON.parse(readFileSync(join(d, "r.sarif"), "utf8"));
    assert.equal(
      sarif.runs[0].results[0].locations[0].physicalLocation.artifactLocation.uri,
      "examples/demo-agent/assay-target.yaml",
    );
    assert.match(readFileSync(join(d, "r.xml"), "utf8"), /<testsuite name="demo-agent@1.0.0" tests="500"/);
    // From a checkout reached through a symlink, with the target given through it ($PWD/...): the
    // same repository-relative URI.
    const link = join(d, "checkout");
    symlinkSync(ROOT, link);
    const viaLink = runAssay(
      [
        ...["sim", "soak", "--target", join(link, "examples/demo-agent"), "-n", "500", "--seed", "1"],
        ...["--report", join(d, "l.json"), "--sarif", join(d, "l.sarif"), "--deterministic"],
      ],
      link,
    );
    assert.equal(viaLink.code, 1, viaLink.err);
    assert.equal(readFileSync(join(d, "l.sarif"), "utf8"), readFileSync(join(d, "r.sarif"), "utf8"));
  });

  test("run writes them without a report", async (t) => {
    const d = tempDir("assay-report-", t);
    const r = runAssay(
      [
        "sim",
        "run",
        "--target",
        DEMO,
        "--seed",
        "0",
        "--sarif",
        join(d, "s.sarif"),
        "--junit",
        join(d, "j.xml"),
      ],
      ROOT,
    );
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(readFileSync(join(d, "s.sarif"), "utf8")).runs[0].results, []);
    assert.equal([...readFileSync(join(d, "j.xml"), "utf8").matchAll(/<testcase /g)].length, 5);
    assert.ok(!existsSync(join(d, "r.json")));
  });
});
