import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { Artifact, ArtifactKind } from "../../src/matrix/artifact.js";
import { judgeClaim } from "../../src/matrix/judge-claim.js";
import { parseRegistry } from "../../src/matrix/registry.js";

function artifact(kind: ArtifactKind, path: string, data: Record<string, unknown>): Artifact {
  return {
    kind,
    path,
    sha256: `sha256:${"0".repeat(64)}`,
    timestamp: "2026-12-01T00:00:00Z",
    timestamp_source: "t",
    data,
    recorded: null,
  };
}

/** One claim from a registry fragment (YAML), judged against `files` (by file name). */
function judge(claimYaml: string, files: Record<string, Artifact>) {
  const registry = parseRegistry(
    `version: 1\ngroups:\n  - id: g\n    title: G\n    claims:\n${claimYaml.replace(/^/gm, "      ")}\n`,
    "claims.yaml",
    `sha256:${"1".repeat(64)}`,
  );
  const spec = registry.groups[0]?.claims[0];
  assert.ok(spec);
  return judgeClaim(spec, (e) => files[e.file] ?? null);
}

const SOAK = artifact("soak_report", "ev/soak.json", { summary: { ci_95: [0.96, 0.99], pass_rate: 0.98 } });
const LOW = artifact("soak_report", "ev/low.json", { summary: { ci_95: [0.81, 0.9], pass_rate: 0.86 } });

describe("claim states and recommendations", () => {
  test("every criterion holds: VALIDATED / OK_DESIGN_PARTNER", () => {
    const r = judge(
      `- id: SOAK-REL-01\n  claim: c\n  required_for: design_partner\n  evidence:\n    - { kind: soak_report, file: soak.json, criterion: "summary.ci_95[0] >= 0.95" }`,
      { "soak.json": SOAK },
    );
    assert.equal(r.state, "VALIDATED");
    assert.equal(r.recommendation, "OK_DESIGN_PARTNER");
    assert.equal(r.verdict, "pass");
    assert.deepEqual(r.evidence[0], {
      kind: "soak_report",
      file: "soak.json",
      path: "ev/soak.json",
      criterion: "summary.ci_95[0] >= 0.95",
      status: "pass",
      found: 0.96,
    });
  });

  test("holds with a disclosure code: BETA / BETA_ONLY", () => {
    const r = judge(
      `- id: SOAK-REL-01\n  claim: c\n  required_for: design_partner\n  disclosure: soak_single_host\n  limitations: one host\n  evidence:\n    - { kind: soak_report, file: soak.json, criterion: "summary.pass_rate >= 0.95" }`,
      { "soak.json": SOAK },
    );
    assert.equal(r.state, "BETA");
    assert.equal(r.recommendation, "BETA_ONLY");
    assert.equal(r.disclosure, "soak_single_host");
    assert.equal(r.limitations, "one host");
  });

  test("a failing criterion is never VALIDATED: DEFER, with the criterion, the value found and the file", () => {
    const r = judge(
      `- id: SOAK-REL-01\n  claim: c\n  required_for: design_partner\n  disclosure: d\n  evidence:\n    - { kind: soak_report, file: soak.json, criterion: "summary.pass_rate >= 0.5" }\n    - { kind: soak_report, file: low.json, criterion: "summary.ci_95[0] >= 0.95" }`,
      { "soak.json": SOAK, "low.json": LOW },
    );
    assert.equal(r.state, "DEFER");
    assert.equal(r.recommendation, "DEFER");
    assert.equal(r.verdict, "fail");
    assert.equal(r.evidence[1]?.status, "fail");
    assert.equal(r.evidence[1]?.found, 0.81);
    assert.match(
      r.reason,
      /criterion `summary\.ci_95\[0\] >= 0\.95` fails: found `0\.81` in `ev\/low\.json`/,
    );
  });

  test("a criterion that cannot be evaluated (no such key) fails the claim, naming why", () => {
    const r = judge(
      `- id: SOAK-REL-01\n  claim: c\n  required_for: ga\n  evidence:\n    - { kind: soak_report, file: soak.json, criterion: "summary.nope >= 1" }`,
      { "soak.json": SOAK },
    );
    assert.equal(r.state, "DEFER");
    assert.equal(r.evidence[0]?.status, "error");
    assert.match(r.evidence[0]?.message ?? "", /nope/);
  });

  test("a criterion that is not a bool is an error, not a pass", () => {
    const r = judge(
      `- id: SOAK-REL-01\n  claim: c\n  required_for: ga\n  evidence:\n    - { kind: soak_report, file: soak.json, criterion: "summary.pass_rate" }`,
      { "soak.json": SOAK },
    );
    assert.equal(r.state, "DEFER");
    assert.equal(r.evidence[0]?.status, "error");
    assert.match(r.evidence[0]?.message ?? "", /not a bool/);
  });

  test("missing evidence leaves the claim pending: NOT_STARTED / NOT_STARTED", () => {
    const r = judge(
      `- id: SOAK-LONG-01\n  claim: c\n  required_for: ga\n  pending: NOT_STARTED\n  evidence:\n    - { kind: soak_report, file: soak-30d.json, criterion: "summary.pass_rate >= 0.99" }`,
      {},
    );
    assert.equal(r.state, "NOT_STARTED");
    assert.equal(r.recommendation, "NOT_STARTED");
    assert.equal(r.verdict, "missing");
    assert.equal(r.evidence[0]?.status, "missing");
    assert.equal(r.evidence[0]?.path, null);
    assert.match(r.reason, /evidence missing: `soak-30d\.json`/);
  });

  test("no evidence named: DEFER by default, FUTURE_REQUIRED when it needs third parties", () => {
    const d = judge(`- id: HW-ARM-01\n  claim: c\n  required_for: ga`, {});
    assert.deepEqual([d.state, d.recommendation, d.verdict], ["DEFER", "DEFER", "none"]);
    const f = judge(
      `- id: EXT-AUD-01\n  claim: c\n  required_for: public_production\n  pending: FUTURE_REQUIRED\n  pending_reason: an external security audit`,
      {},
    );
    assert.deepEqual([f.state, f.recommendation], ["FUTURE_REQUIRED", "FUTURE_REQUIRED"]);
    assert.equal(f.reason, "an external security audit");
  });

  test("a failing criterion beats missing evidence", () => {
    const r = judge(
      `- id: SOAK-REL-01\n  claim: c\n  required_for: ga\n  pending: NOT_STARTED\n  evidence:\n    - { kind: soak_report, file: low.json, criterion: "summary.pass_rate >= 0.95" }\n    - { kind: soak_report, file: gone.json, criterion: "true" }`,
      { "low.json": LOW },
    );
    assert.equal(r.state, "DEFER");
    assert.equal(r.verdict, "fail");
  });

  describe("state_override_signal", () => {
    const claim = (file: string) =>
      `- id: SOAK-LONG-01\n  claim: c\n  required_for: ga\n  pending: NOT_STARTED\n  evidence:\n    - { kind: readiness_report, file: ${file}, criterion: "exit_code <= 2" }\n  state_override_signal:\n    file: ${file}\n    expression: verdict\n    states: { ready: VALIDATED, not_ready: DEFER, insufficient_data: NOT_STARTED }`;
    const readiness = (verdict: string) =>
      artifact("readiness_report", "ev/readiness.json", { verdict, exit_code: verdict === "ready" ? 0 : 2 });

    test("drives the state from the artifact's field", () => {
      const ready = judge(claim("readiness.json"), { "readiness.json": readiness("ready") });
      assert.equal(ready.state, "VALIDATED");
      assert.deepEqual(ready.signal, {
        file: "readiness.json",
        expression: "verdict",
        value: "ready",
        state: "VALIDATED",
      });
      assert.equal(
        judge(claim("readiness.json"), { "readiness.json": readiness("insufficient_data") }).state,
        "NOT_STARTED",
      );
    });

    test("a value its states do not map is DEFER, never a guess", () => {
      const r = judge(claim("readiness.json"), { "readiness.json": readiness("maybe") });
      assert.equal(r.state, "DEFER");
      assert.match(r.reason, /"maybe".*do not map/);
    });

    test("while its artifact is missing the claim is pending", () => {
      assert.equal(judge(claim("readiness.json"), {}).state, "NOT_STARTED");
    });
  });
});
