import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import type { Clock } from "../../../src/lib/clock.js";
import { mergeSoakReports } from "../../../src/sim/soak/merge.js";
import { parseSoakReport, type SoakReport, serializeSoakReport } from "../../../src/sim/soak/report.js";
import { runSoak } from "../../../src/sim/soak/run.js";
import { type Bundle, loadBundle } from "../../../src/sim/target/load.js";
import { ROOT } from "../../run-assay.js";
import { suiteTempDir } from "../../temp-dir.js";
import { metadata, RECORDED_AT, readAs, recording, refused } from "./helpers.js";

const STARTED = "2026-12-06T20:31:54.603Z";

/** A clock stopped at `iso`: the run's start is its own, not the test's. */
const stopped = (iso: string): Clock => ({ nowIso: () => iso, monotonicNs: () => 0n });

describe("soak_report", () => {
  const dir = suiteTempDir("assay-matrix-soak-");
  let bundle: Bundle;
  let text: string;
  let report: SoakReport;

  before(async () => {
    bundle = await loadBundle(join(ROOT, "examples/demo-agent"));
    const run = await runSoak({
      bundle,
      iterations: 30,
      seed: 7n,
      assayVersion: "test",
      clock: stopped(STARTED),
    });
    report = run.report;
    text = serializeSoakReport(report);
  });

  test("a real report: its run's start, the report as data", async () => {
    const a = await readAs("soak_report", dir, "soak.json", text);
    assert.equal(a.timestamp, STARTED);
    assert.equal(a.timestamp_source, "run.started_at_utc");
    assert.equal(a.recorded, null);
    assert.equal(a.data.schema_version, "soak-report-v1");
    assert.deepEqual(Object.keys(a.data), Object.keys(report));
    assert.equal((a.data.summary as { pass_rate: number }).pass_rate, report.summary.pass_rate);
    // u64 seeds beyond 2^53 are read (as the nearest double), not refused.
    assert.equal(typeof (a.data.run as { seed: unknown }).seed, "number");
  });

  test("a merged report (`assay sim merge`) reads the same way, timed by its earliest shard", async () => {
    const base = { bundle, iterations: 20, seed: 18446744073709551557n, assayVersion: "test" };
    const shards = [];
    for (const [index, at] of [
      [1, "2026-12-06T10:00:00.5Z"],
      [2, "2026-12-06T09:00:00.25Z"],
    ] as const) {
      const { report: r } = await runSoak({ ...base, shard: { index, count: 2 }, clock: stopped(at) });
      shards.push({ where: `s${index}.json`, report: parseSoakReport(serializeSoakReport(r)) });
    }
    const merged = serializeSoakReport(mergeSoakReports(shards).report);
    const a = await readAs("soak_report", dir, "merged.json", merged);
    assert.equal(a.timestamp, "2026-12-06T09:00:00.25Z");
    assert.equal(a.timestamp_source, "run.started_at_utc");
  });

  test("a zone offset is normalized to UTC", async () => {
    const r = JSON.parse(text);
    r.run.started_at_utc = "2026-12-06T21:31:54.603+01:00";
    const a = await readAs("soak_report", dir, "offset.json", r);
    assert.equal(a.timestamp, STARTED);
  });

  test("recorded: the report's own start wins over the recording's time", async () => {
    const rec = recording("soak_report", JSON.parse(text));
    const a = await readAs("soak_report", dir, "soak-rec.json", rec);
    assert.equal(a.timestamp, STARTED);
    assert.equal(a.timestamp_source, "output.run.started_at_utc");
    assert.deepEqual(a.recorded, metadata(rec));
    assert.equal(a.data.schema_version, "soak-report-v1");
    assert.notEqual(a.timestamp, RECORDED_AT);
  });

  test("refused: another kind, a schema fault with its pointer, a syntax error with line:col", async () => {
    const bench = { trials_per_sec: 51234, peak_rss_mb: 88.1 };
    const other = await refused("soak_report", dir, "bench.json", bench, "bench.json#");
    assert.match(other.message, /not a soak-report-v1: must have required property/);
    const r = JSON.parse(text);
    r.run.started_at_utc = "yesterday";
    const bad = await refused("soak_report", dir, "bad.json", r, "bad.json#/run/started_at_utc");
    assert.match(bad.message, /format/);
    await refused(
      "soak_report",
      dir,
      "syntax.json",
      '{\n  "schema_version": "soak-report-v1",\n  "run": }\n',
      "syntax.json:3:10",
    );
    await refused("soak_report", dir, "dup.json", '{"a": 1, "a": 2}', "dup.json:1:10");
    const inner = recording("soak_report", { ...JSON.parse(text), summary: "none" });
    await refused("soak_report", dir, "inner.json", inner, "inner.json#/output/summary");
    await refused("soak_report", dir, "wrong-kind.json", recording("bench", bench), "wrong-kind.json#/kind");
  });
});
