import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Artifact } from "../../src/matrix/artifact.js";
import { evidenceCampaign } from "../../src/matrix/campaign.js";
import { parseWindow } from "../../src/matrix/window.js";

const at = (path: string, timestamp: string | null): Artifact => ({
  kind: "soak_report",
  path,
  sha256: `sha256:${"0".repeat(64)}`,
  timestamp,
  timestamp_source:
    timestamp === null ? "records no time; wrap it with `assay matrix record`" : "run.started_at_utc",
  data: {},
  recorded: null,
});
const WEEK = { text: "7d", seconds: parseWindow("7d") };

describe("evidence campaign window", () => {
  test("inside: every artifact within 7 days of the newest", () => {
    const c = evidenceCampaign(
      [at("b.json", "2026-12-06T10:00:00Z"), at("a.json", "2026-11-30T10:00:01Z")],
      WEEK,
      null,
    );
    assert.equal(c.holds, true);
    assert.equal(c.anchor, "2026-12-06T10:00:00Z");
    assert.equal(c.anchor_source, "newest_artifact");
    assert.equal(c.earliest, "2026-11-30T10:00:01Z");
    assert.equal(c.span_seconds, 5 * 86_400 + 86_399);
    assert.deepEqual(c.outside, []);
  });

  test("outside: an artifact older than the window is named, with how far", () => {
    const c = evidenceCampaign(
      [at("new.json", "2026-12-06T10:00:00Z"), at("old.json", "2026-11-28T09:00:00Z")],
      WEEK,
      null,
    );
    assert.equal(c.holds, false);
    assert.deepEqual(c.outside, [
      {
        path: "old.json",
        timestamp: "2026-11-28T09:00:00Z",
        reason: "8d 1h before the window's end, which is 7d long",
      },
    ]);
  });

  test("--now anchors the window: stale evidence and evidence from the future are both outside", () => {
    const c = evidenceCampaign(
      [at("a.json", "2026-12-01T00:00:00Z"), at("b.json", "2026-12-04T00:00:00Z")],
      WEEK,
      "2026-12-10T00:00:00Z",
    );
    assert.equal(c.anchor_source, "now");
    assert.deepEqual(
      c.outside.map((o) => o.path),
      ["a.json"],
    );
    const future = evidenceCampaign([at("a.json", "2026-12-11T00:00:00Z")], WEEK, "2026-12-10T00:00:00Z");
    assert.equal(future.holds, false);
    assert.match(future.outside[0]?.reason ?? "", /after --now/);
  });

  test("missing timestamps break the campaign and say why", () => {
    const c = evidenceCampaign([at("a.json", "2026-12-01T00:00:00Z"), at("bench.json", null)], WEEK, null);
    assert.equal(c.holds, false);
    assert.deepEqual(c.missing_timestamps, [
      { path: "bench.json", reason: "records no time; wrap it with `assay matrix record`" },
    ]);
  });

  test("no artifacts: no campaign to hold", () => {
    const c = evidenceCampaign([], WEEK, null);
    assert.equal(c.holds, false);
    assert.equal(c.anchor_source, "none");
  });

  test("--window parses weeks, days, hours, minutes, seconds and refuses the rest", () => {
    assert.equal(parseWindow("2w"), 1_209_600);
    assert.equal(parseWindow("36h"), 129_600);
    assert.equal(parseWindow("90m"), 5_400);
    for (const bad of ["", "7", "7 days", "0d", "-1d", "1.5d", "P7D"])
      assert.throws(() => parseWindow(bad), /--window/);
  });
});
