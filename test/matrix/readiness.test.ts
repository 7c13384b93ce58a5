import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { disclosureStatus } from "../../src/matrix/disclosures.js";
import {
  type ClaimRow,
  type ClaimState,
  type EvidenceCampaign,
  RECOMMENDATION_FOR,
  type ReadinessLevel,
} from "../../src/matrix/matrix-doc.js";
import { readinessLevels } from "../../src/matrix/readiness.js";

const row = (
  id: string,
  required_for: ReadinessLevel,
  state: ClaimState,
  disclosure: string | null = null,
): ClaimRow => ({
  id,
  group: "g",
  claim: id,
  required_for,
  state,
  recommendation: RECOMMENDATION_FOR[state],
  verdict: state === "VALIDATED" || state === "BETA" ? "pass" : "missing",
  reason: `reason of ${id}`,
  evidence: [],
  limitations: null,
  disclosure,
  signal: null,
});
const HOLDS: EvidenceCampaign = {
  window: "7d",
  window_seconds: 604800,
  anchor: "2026-12-06T00:00:00Z",
  anchor_source: "newest_artifact",
  earliest: "2026-12-05T00:00:00Z",
  latest: "2026-12-06T00:00:00Z",
  span_seconds: 86400,
  holds: true,
  outside: [],
  missing_timestamps: [],
};
const BROKEN: EvidenceCampaign = {
  ...HOLDS,
  holds: false,
  missing_timestamps: [{ path: "b.json", reason: "no time" }],
};
const file = (written: string[]) => ({
  path: "disclosures.json",
  sha256: `sha256:${"0".repeat(64)}`,
  written,
});

function levels(rows: ClaimRow[], campaign = HOLDS, written: string[] | null = []) {
  return readinessLevels(rows, campaign, disclosureStatus(rows, written === null ? null : file(written)));
}
const met = (l: ReturnType<typeof levels>) => l.map((x) => `${x.level}:${x.met}`);

describe("readiness levels", () => {
  const rows = [
    row("DP-ONE-01", "design_partner", "VALIDATED"),
    row("DP-TWO-01", "design_partner", "BETA", "two_single_host"),
    row("GA-ONE-01", "ga", "VALIDATED"),
    row("PP-ONE-01", "public_production", "VALIDATED"),
  ];

  test("everything in place: all three levels met", () => {
    assert.deepEqual(met(levels(rows, HOLDS, ["two_single_host"])), [
      "design_partner:true",
      "ga:true",
      "public_production:true",
    ]);
  });

  test("a BETA claim without its written disclosure blocks Design Partner Ready, and so every level", () => {
    const l = levels(rows, HOLDS, ["something_else"]);
    assert.deepEqual(met(l), ["design_partner:false", "ga:false", "public_production:false"]);
    assert.deepEqual(l[0]?.unmet, [
      {
        requirement: "disclosure:two_single_host",
        reason: "BETA claim DP-TWO-01's disclosure `two_single_host` is not in disclosures.json",
      },
    ]);
    assert.deepEqual(l[1]?.unmet, [
      { requirement: "design_partner", reason: "Design Partner Ready is not met (1 unmet)" },
    ]);
  });

  test("no disclosures file at all, with a BETA claim", () => {
    const l = levels(rows, HOLDS, null);
    assert.deepEqual(
      l[0]?.unmet.map((u) => u.requirement),
      ["disclosures"],
    );
  });

  test("a design-partner claim that is not VALIDATED or BETA, and a broken campaign, are both listed", () => {
    const l = levels(
      [row("DP-ONE-01", "design_partner", "DEFER"), row("GA-ONE-01", "ga", "VALIDATED")],
      BROKEN,
      [],
    );
    assert.deepEqual(l[0]?.unmet, [
      { requirement: "DP-ONE-01", reason: "DEFER: reason of DP-ONE-01" },
      { requirement: "evidence_campaign", reason: "1 artifact(s) record no time" },
    ]);
  });

  test("GA needs every ga claim VALIDATED (BETA is not enough); public production needs its own", () => {
    const l = levels(
      [
        row("DP-ONE-01", "design_partner", "VALIDATED"),
        row("GA-ONE-01", "ga", "BETA", "x"),
        row("PP-ONE-01", "public_production", "FUTURE_REQUIRED"),
      ],
      HOLDS,
      ["x"],
    );
    assert.deepEqual(met(l), ["design_partner:true", "ga:false", "public_production:false"]);
    assert.deepEqual(l[1]?.unmet, [{ requirement: "GA-ONE-01", reason: "BETA: reason of GA-ONE-01" }]);
    assert.deepEqual(l[2]?.unmet, [
      { requirement: "ga", reason: "GA Ready is not met (1 unmet)" },
      { requirement: "PP-ONE-01", reason: "FUTURE_REQUIRED: reason of PP-ONE-01" },
    ]);
  });

  test("design-partner claims may stay BETA at GA", () => {
    const l = levels(
      [row("DP-TWO-01", "design_partner", "BETA", "y"), row("GA-ONE-01", "ga", "VALIDATED")],
      HOLDS,
      ["y"],
    );
    assert.deepEqual(met(l), ["design_partner:true", "ga:true", "public_production:true"]);
  });
});
