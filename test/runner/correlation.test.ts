import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { schemaValidator } from "../../src/lib/schema-validator.js";
import { buildCorrelation } from "../../src/runner/correlation.js";
import { facts, kernelResult, layers, policy, sdk } from "./layers.js";

const valid = schemaValidator("runner-correlation-report");

function report(...args: Parameters<typeof buildCorrelation>) {
  const r = buildCorrelation(...args);
  assert.ok(valid(r), JSON.stringify(valid.errors));
  for (const b of r.bindings) assert.equal("cgroup_id" in b, false, "cgroup_id is never written");
  return r;
}

const WINDOW = { start: "run_started", end: "run_finished" };

describe("buildCorrelation (contract §9)", () => {
  test("one decision, kernel events, the SDK's call bound: clean", () => {
    const r = report(
      layers({ policy: policy(["tc_1", "read_file", "allow"]), sdk: sdk("tc_1", "tc_1", null) }),
    );
    assert.deepEqual(r, {
      schema: "assay.runner.correlation_report.v0",
      run_id: "run_l",
      status: "clean",
      bindings: [{ tool_call_id: "tc_1", policy_decision: "allow", kernel_event_count: 4, window: WINDOW }],
      ambiguities: [],
    });
    assert.deepEqual(Object.keys(r.bindings[0] ?? {}), [
      "tool_call_id",
      "policy_decision",
      "kernel_event_count",
      "window",
    ]);
  });

  test("a frame the gate refused, or a call the client gave no id: partial, named", () => {
    const refused = { ...policy(["tc_1", "read_file", "allow"]), frameRejections: 2 };
    assert.deepEqual(report(layers({ policy: refused })).ambiguities, ["gate_rejected_frames:2"]);
    const derived = report(layers({ policy: policy(["run_l:number:3", "read_file", "allow"]) }));
    assert.equal(derived.status, "partial");
    assert.deepEqual(derived.ambiguities, ["policy_event_without_stable_tool_call_id:run_l:number:3"]);
  });

  test("no policy log: clean and empty, whatever the SDK reported", () => {
    const r = report(layers({ sdk: sdk("tc_9") }));
    assert.equal(r.status, "clean");
    assert.deepEqual(r.bindings, []);
    assert.deepEqual(r.ambiguities, []);
    assert.equal(report(layers({ policy: policy(), sdk: sdk("tc_9") })).status, "clean");
  });

  test("0 kernel lines: partial, policy_events_without_kernel_events (kernel absent or nothing retained)", () => {
    const absent = report(
      layers({ kernel: { facts: null, reason: "off" }, policy: policy(["a", "t", "allow"]) }),
    );
    assert.equal(absent.status, "partial");
    assert.deepEqual(absent.ambiguities, ["policy_events_without_kernel_events"]);
    assert.equal(absent.bindings[0]?.kernel_event_count, 0);
    const empty = report(
      layers({
        kernel: { facts: facts(), normalized: kernelResult({ retained: 0 }) },
        policy: policy(["a", "t", "allow"]),
      }),
    );
    assert.deepEqual(empty.ambiguities, ["policy_events_without_kernel_events"]);
  });

  test("several decisions under a kernel capture share one cgroup: partial, one binding each in log order", () => {
    const r = report(
      layers({
        policy: policy(
          ["tc_2", "write_file", "deny"],
          ["tc_1", "read_file", "allow"],
          ["tc_3", "read_file", "warn"],
        ),
      }),
    );
    assert.equal(r.status, "partial");
    assert.deepEqual(r.ambiguities, ["session_cgroup_ambiguous_for_multiple_policy_events"]);
    assert.deepEqual(
      r.bindings.map((b) => [b.tool_call_id, b.policy_decision, b.kernel_event_count]),
      [
        ["tc_2", "deny", 4],
        ["tc_1", "allow", 4],
        ["tc_3", "warn", 4],
      ],
    );
    // Without a kernel capture there is no session cgroup to be ambiguous about.
    const off = report(
      layers({
        kernel: { facts: null, reason: "off" },
        policy: policy(["a", "t", "allow"], ["b", "t", "deny"]),
      }),
    );
    assert.deepEqual(off.ambiguities, ["policy_events_without_kernel_events"]);
  });

  test("SDK ids without a policy binding: one ambiguity each, in byte order, after the policy step's", () => {
    const r = report(
      layers({
        kernel: { facts: null, reason: "off" },
        policy: policy(["tc_1", "read_file", "allow"]),
        sdk: sdk("tc_\u{1F600}", "tc_1", "tc_z", null, "tc_\uFFFD", "tc_z"),
      }),
    );
    assert.equal(r.status, "partial");
    assert.deepEqual(r.ambiguities, [
      "policy_events_without_kernel_events",
      "sdk_tool_call_without_policy_binding:tc_z",
      "sdk_tool_call_without_policy_binding:tc_\uFFFD",
      "sdk_tool_call_without_policy_binding:tc_\u{1F600}",
    ]);
  });

  test("a policy binding without an SDK call is not flagged", () => {
    const r = report(layers({ policy: policy(["tc_1", "read_file", "allow"]), sdk: sdk(null) }));
    assert.equal(r.status, "clean");
  });

  test("a tool_call_id decided twice keeps its first binding and is flagged once", () => {
    const r = report(
      layers({
        policy: policy(
          ["tc_1", "read_file", "allow"],
          ["tc_1", "read_file", "deny"],
          ["tc_1", "read_file", "deny"],
        ),
      }),
    );
    assert.deepEqual(r.ambiguities, [
      "session_cgroup_ambiguous_for_multiple_policy_events",
      "duplicate_tool_call_id:tc_1",
    ]);
    assert.deepEqual(
      r.bindings.map((b) => [b.tool_call_id, b.policy_decision]),
      [["tc_1", "allow"]],
    );
  });
});
