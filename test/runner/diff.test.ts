import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AssayError } from "../../src/lib/errors.js";
import type { CapabilityDiff } from "../../src/runner/contract.js";
import { capabilityDiff, diffExitCode, diffText, type EvidenceSet } from "../../src/runner/diff.js";
import { goldenText, S5_RUN_ID, s5 } from "./contract-fixtures.js";

const GOLDEN = "capability-diff-s5-idempotent-v0.json";

/** The S5 evidence with one binding's decision changed from allow to deny, as a re-run under a stricter pack. */
function denied(): ReturnType<typeof s5> {
  const e = s5();
  (e.correlation.bindings[0] as { policy_decision: string }).policy_decision = "deny";
  e.surface.policy_decisions = ["deny:read_file"];
  return e;
}

function inputError(fn: () => unknown, where: RegExp, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof AssayError, String(err));
    assert.equal(err.code, "input_invalid");
    assert.match(err.where ?? "", where);
    assert.match(err.message, message);
    return true;
  });
}

describe("capabilityDiff (contract §13)", () => {
  test("diff(S5, S5) reproduces the upstream idempotence golden byte for byte, exit 0", () => {
    const diff = capabilityDiff(s5(), s5());
    assert.equal(diffText(diff), goldenText(GOLDEN));
    assert.equal(diffExitCode(diff), 0);
  });

  test("it is a pure projection: the inputs are left as they were", () => {
    const base = s5();
    const head = denied();
    const before = JSON.stringify([base, head]);
    capabilityDiff(base, head);
    assert.equal(JSON.stringify([base, head]), before);
  });

  test("allow -> deny shows in policy_outcomes and the surface, clean, exit 1", () => {
    const diff = capabilityDiff(s5(), denied());
    assert.equal(diff.status, "clean");
    assert.deepEqual(diff.policy_outcomes.changed, [
      { tool_call_id: "tc_runner_policy_001", base: "allow", head: "deny" },
    ]);
    assert.deepEqual(diff.surface.policy_decisions, {
      added: ["deny:read_file"],
      removed: ["allow:read_file"],
      unchanged: [],
    });
    assert.deepEqual(diff.binding_ids.unchanged, ["tc_runner_policy_001"]);
    assert.deepEqual(diff.notes, []);
    assert.equal(diffExitCode(diff), 1);
  });

  test("a decision that becomes null counts as a change", () => {
    const head = s5();
    (head.correlation.bindings[0] as { policy_decision: string | null }).policy_decision = null;
    head.surface.policy_decisions = [];
    const diff = capabilityDiff(s5(), head);
    assert.deepEqual(diff.policy_outcomes.changed, [
      { tool_call_id: "tc_runner_policy_001", base: "allow", head: null },
    ]);
  });

  test("a new path is added, sorted by UTF-8 bytes; clean with a difference exits 1", () => {
    const head = s5();
    head.surface.filesystem_paths = [...head.surface.filesystem_paths, "/w/\u{1f600}", "/w/\uff5e"];
    head.surface.network_endpoints = ["203.0.113.10:443"];
    const diff = capabilityDiff(s5(), head);
    assert.equal(diff.status, "clean");
    assert.deepEqual(diff.surface.filesystem_paths.added, ["/w/\uff5e", "/w/\u{1f600}"]);
    assert.deepEqual(diff.surface.network_endpoints, {
      added: ["203.0.113.10:443"],
      removed: [],
      unchanged: [],
    });
    assert.deepEqual(diff.notes, []);
    assert.equal(diffExitCode(diff), 1);
  });

  test("base and head may carry different run ids", () => {
    const head = s5();
    for (const doc of [head.health, head.surface, head.correlation]) doc.run_id = "run_head";
    const diff = capabilityDiff(s5(), head);
    assert.equal(diff.base_run_id, S5_RUN_ID);
    assert.equal(diff.head_run_id, "run_head");
    assert.equal(diff.status, "clean");
  });

  test("an unclean health side makes it partial:health (exit 2), surface sections still filled", () => {
    const head = s5();
    head.health.kernel_layer = "partial_ringbuf_drops";
    head.health.ringbuf_drops = 2;
    const diff = capabilityDiff(s5(), head);
    assert.equal(diff.status, "partial:health");
    assert.equal(diff.preconditions.base_health_clean, true);
    assert.equal(diff.preconditions.head_health_clean, false);
    assert.deepEqual(diff.surface.mcp_tools.unchanged, ["read_file"]);
    assert.deepEqual(diff.notes, []);
    assert.equal(diffExitCode(diff), 2);
    // Health outranks correlation.
    head.correlation.status = "partial";
    head.correlation.ambiguities = ["policy_events_without_kernel_events"];
    assert.equal(capabilityDiff(s5(), head).status, "partial:health");
  });

  test("each field of the clean health bar counts, and only those", () => {
    for (const patch of [
      { kernel_layer: "absent" },
      { ringbuf_drops: 1 },
      { policy_layer: "absent" },
      { sdk_layer: "absent" },
      { cgroup_correlation: "partial" },
    ]) {
      const base = s5();
      Object.assign(base.health, patch);
      assert.equal(capabilityDiff(base, s5()).status, "partial:health", JSON.stringify(patch));
    }
    const base = s5();
    base.health.notes = [];
    base.health.network_protocol_coverage = "unknown";
    assert.equal(capabilityDiff(base, s5()).status, "clean");
  });

  test("an unclean correlation, or a side with no binding, makes it partial:correlation", () => {
    const head = s5();
    head.correlation.status = "partial";
    head.correlation.ambiguities = ["sdk_tool_call_without_policy_binding:tc_x"];
    let diff = capabilityDiff(s5(), head);
    assert.equal(diff.status, "partial:correlation");
    assert.equal(diff.preconditions.head_correlation_clean, false);
    assert.equal(diffExitCode(diff), 2);

    const empty = s5();
    empty.correlation.bindings = [];
    diff = capabilityDiff(empty, s5());
    assert.equal(diff.status, "partial:correlation");
    assert.equal(diff.preconditions.stable_tool_call_ids_present, false);
    assert.deepEqual(diff.binding_ids.added, ["tc_runner_policy_001"]);
  });

  test("a binding with no tool_call_id: partial:correlation, left out of binding_ids (§14.7)", () => {
    for (const missing of [undefined, null, ""]) {
      const head = s5();
      const binding = head.correlation.bindings[0] as unknown as Record<string, unknown>;
      head.correlation.bindings.push({ ...binding, tool_call_id: missing } as never);
      if (missing === undefined)
        delete (head.correlation.bindings[1] as unknown as Record<string, unknown>).tool_call_id;
      const diff = capabilityDiff(s5(), head);
      assert.equal(diff.status, "partial:correlation", String(missing));
      assert.deepEqual(diff.binding_ids, { added: [], removed: [], unchanged: ["tc_runner_policy_001"] });
      assert.equal(diff.preconditions.stable_tool_call_ids_present, true, "computed on the remaining ids");
      assert.equal(diff.preconditions.head_correlation_clean, true);
      assert.deepEqual(diff.notes, []);
      assert.equal(diffExitCode(diff), 2);
    }
    const only = s5();
    (only.correlation.bindings[0] as { tool_call_id: string }).tool_call_id = "";
    const diff = capabilityDiff(only, s5());
    assert.equal(diff.preconditions.stable_tool_call_ids_present, false);
    assert.deepEqual(diff.binding_ids.added, ["tc_runner_policy_001"]);
  });

  test("a tool_call_id repeated within one side: a failed document with one note (§14.7)", () => {
    const base = s5();
    base.correlation.bindings.push({ ...(base.correlation.bindings[0] as object) } as never);
    const diff = capabilityDiff(base, s5());
    assert.equal(diff.status, "failed");
    assert.deepEqual(diff.notes, [
      "capability_diff_failed: tool_call_id tc_runner_policy_001 appears more than once in the base bindings",
    ]);
    assert.deepEqual(diff.surface.filesystem_paths.unchanged, s5().surface.filesystem_paths);
    assert.deepEqual(diff.binding_ids.unchanged, ["tc_runner_policy_001"]);
    assert.equal(diffExitCode(diff), 2);
    // failed outranks partial:health.
    const head = s5();
    head.health.sdk_layer = "absent";
    assert.equal(capabilityDiff(base, head).status, "failed");
  });

  test("policy decisions that changed with no binding's outcome changing fail the consistency check", () => {
    const head = s5();
    head.surface.policy_decisions = ["deny:read_file"];
    const diff = capabilityDiff(s5(), head);
    assert.equal(diff.status, "failed");
    assert.equal(diff.notes.length, 1);
    assert.match(diff.notes[0] as string, /^capability_diff_failed: policy_decisions changed/);
    assert.deepEqual(diff.surface.policy_decisions.added, ["deny:read_file"]);
    // Whatever the status: the check runs on partial diffs too.
    head.health.ringbuf_drops = 5;
    head.health.kernel_layer = "partial_ringbuf_drops";
    assert.equal(capabilityDiff(s5(), head).status, "failed");
    // Added or removed bindings explain a changed decision set: no failure.
    const more = s5();
    more.surface.policy_decisions = ["allow:read_file", "deny:write_file"];
    more.correlation.bindings.push({
      ...(more.correlation.bindings[0] as object),
      tool_call_id: "tc_2",
      policy_decision: "deny",
    } as never);
    assert.equal(capabilityDiff(s5(), more).status, "clean");
  });

  test("structural garbage is an input error naming the file and the JSON pointer, with no document", () => {
    const with_ = (side: Partial<EvidenceSet>): EvidenceSet => ({ ...s5(), ...side });
    inputError(
      () => capabilityDiff(with_({ health: [] }), s5()),
      /^base observation-health\.json$/,
      /`\/` must be a JSON object/,
    );
    inputError(
      () => capabilityDiff(s5(), with_({ surface: null })),
      /^head capability-surface\.json$/,
      /JSON object/,
    );
    inputError(
      () => capabilityDiff(s5(), with_({ correlation: { ...s5().correlation, schema: "x" } })),
      /correlation-report/,
      /`\/schema` must be `assay\.runner\.correlation_report\.v0`/,
    );
    inputError(
      () => capabilityDiff(with_({ health: { ...s5().health, run_id: "" } }), s5()),
      /health/,
      /`\/run_id`/,
    );
    inputError(
      () => capabilityDiff(with_({ health: { ...s5().health, run_id: 7 } }), s5()),
      /health/,
      /`\/run_id`/,
    );
    inputError(
      () => capabilityDiff(with_({ surface: { ...s5().surface, run_id: "run_other" } }), s5()),
      /capability-surface/,
      /`\/run_id` `run_other` differs/,
    );
    inputError(
      () => capabilityDiff(with_({ surface: { ...s5().surface, mcp_tools: ["a", 1] } }), s5()),
      /capability-surface/,
      /`\/mcp_tools` must be a list of strings/,
    );
    inputError(
      () => capabilityDiff(with_({ surface: { ...s5().surface, process_execs: undefined } }), s5()),
      /capability-surface/,
      /`\/process_execs`/,
    );
    inputError(
      () => capabilityDiff(with_({ correlation: { ...s5().correlation, bindings: {} } }), s5()),
      /correlation/,
      /`\/bindings` must be a list/,
    );
    inputError(
      () => capabilityDiff(with_({ correlation: { ...s5().correlation, bindings: ["tc"] } }), s5()),
      /correlation/,
      /`\/bindings\/0` must be an object/,
    );
    inputError(
      () =>
        capabilityDiff(
          with_({ correlation: { ...s5().correlation, bindings: [{ tool_call_id: 5 }] } }),
          s5(),
        ),
      /correlation/,
      /`\/bindings\/0\/tool_call_id` must be a string/,
    );
    inputError(
      () =>
        capabilityDiff(
          with_({
            correlation: { ...s5().correlation, bindings: [{ tool_call_id: "a", policy_decision: 1 }] },
          }),
          s5(),
        ),
      /correlation/,
      /`\/bindings\/0\/policy_decision` must be a string or null/,
    );
    const named: EvidenceSet = { ...s5(), health: 1, where: { health: "/tmp/base/observation-health.json" } };
    inputError(() => capabilityDiff(named, s5()), /^\/tmp\/base\/observation-health\.json$/, /JSON object/);
  });

  test("the exit code follows the status and whether anything differs", () => {
    const clean = capabilityDiff(s5(), s5());
    const withStatus = (status: CapabilityDiff["status"]): CapabilityDiff => ({ ...clean, status });
    assert.equal(diffExitCode(clean), 0);
    assert.equal(diffExitCode(withStatus("partial:health")), 2);
    assert.equal(diffExitCode(withStatus("partial:correlation")), 2);
    assert.equal(diffExitCode(withStatus("failed")), 2);
    assert.equal(diffExitCode({ ...clean, binding_ids: { ...clean.binding_ids, removed: ["x"] } }), 1);
  });
});
