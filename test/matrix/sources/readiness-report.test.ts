import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { defaultReadinessPolicy } from "../../../src/sim/readiness/policy.js";
import { assessReadiness, type ReadinessResult } from "../../../src/sim/readiness/readiness.js";
import { DEMO, history, META, soakReports } from "../../sim/readiness/fixtures.js";
import { suiteTempDir } from "../../temp-dir.js";
import { metadata, RECORDED_AT, readAs, recording, refused } from "./helpers.js";

describe("readiness_report", () => {
  const dir = suiteTempDir("assay-matrix-readiness-");
  let result: ReadinessResult;

  before(async () => {
    // Three real runs, on 2026-01-01, -03 and -05 (history() dates run i at day 2i).
    const h = history(await soakReports(DEMO, 3, { iterations: 20 }), { everyDays: 2 });
    result = assessReadiness(h, defaultReadinessPolicy(), META);
  });

  test("timed by the newest start among the runs it judged", async () => {
    const a = await readAs("readiness_report", dir, "readiness.json", result);
    assert.equal(a.timestamp, "2026-01-05T00:00:00Z");
    assert.equal(a.timestamp_source, "runs[2].started_at_utc, the newest start of the 3 runs it judged");
    assert.equal(a.data.schema_version, "soak-readiness-v1");
    assert.equal(a.data.verdict, result.verdict);
    assert.equal(a.recorded, null);
  });

  test("the newest start, wherever it sits in `runs`", async () => {
    const r = structuredClone(result);
    const [first, , last] = r.runs;
    assert.ok(first && last);
    first.started_at_utc = "2026-02-01T12:00:00+02:00";
    const a = await readAs("readiness_report", dir, "reordered.json", r);
    assert.equal(a.timestamp, "2026-02-01T10:00:00Z");
    assert.match(a.timestamp_source, /^runs\[0\]\.started_at_utc/);
  });

  test("no runs judged: no time, and why; recorded, the recording's time", async () => {
    const empty = assessReadiness([], defaultReadinessPolicy(), META);
    const a = await readAs("readiness_report", dir, "empty.json", empty);
    assert.equal(a.timestamp, null);
    assert.match(a.timestamp_source, /judged no runs/);
    const rec = recording("readiness_report", empty);
    const b = await readAs("readiness_report", dir, "empty-rec.json", rec);
    assert.equal(b.timestamp, RECORDED_AT);
    assert.match(b.timestamp_source, /^recorded_at_utc \(the output judged no runs/);
    assert.deepEqual(b.recorded, metadata(rec));
    const c = await readAs("readiness_report", dir, "rec.json", recording("readiness_report", result));
    assert.equal(c.timestamp, "2026-01-05T00:00:00Z");
    assert.match(c.timestamp_source, /^output\.runs\[2\]\.started_at_utc/);
  });

  test("refused: a soak report, a schema fault with its pointer, a syntax error", async () => {
    await refused(
      "readiness_report",
      dir,
      "soak.json",
      { schema_version: "soak-report-v1", report_version: 1 },
      "soak.json#",
    );
    const r = structuredClone(result);
    (r.runs[1] as { pass_rate: unknown }).pass_rate = 2;
    await refused("readiness_report", dir, "bad.json", r, "bad.json#/runs/1/pass_rate");
    await refused("readiness_report", dir, "syntax.json", "[1, 2,]", "syntax.json:1:7");
  });
});
