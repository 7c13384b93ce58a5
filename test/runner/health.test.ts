import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { schemaValidator } from "../../src/lib/schema-validator.js";
import { buildHealth, healthPlatform } from "../../src/runner/health.js";
import { facts, kernelResult, layers, policy, sdk } from "./layers.js";

const valid = schemaValidator("runner-observation-health");

function health(...args: Parameters<typeof buildHealth>) {
  const h = buildHealth(...args);
  assert.ok(valid(h), JSON.stringify(valid.errors));
  return h;
}

describe("buildHealth (contract §3)", () => {
  test("clean capture with all three layers: the clean bar, notes s2, s4, s5 with our backend suffix", () => {
    const h = health(
      layers({ policy: policy(["tc_1", "read_file", "allow"]), sdk: sdk("tc_1", "tc_1", null) }),
      "linux",
    );
    assert.deepEqual(h, {
      schema: "assay.runner.observation_health.v0",
      run_id: "run_l",
      platform: "linux",
      kernel_layer: "complete",
      ringbuf_drops: 0,
      policy_layer: "present",
      sdk_layer: "self_reported",
      cgroup_correlation: "clean",
      network_protocol_coverage: "connect_only",
      network_endpoint_claim_scope: "diagnostic_only",
      notes: [
        "s2_kernel_capture: monitor_events=4 ringbuf_drops=0 network_protocol_coverage=connect_only network_endpoint_claim_scope=diagnostic_only backend=bpftrace",
        "s4_policy_capture: policy_events=1",
        "s5_sdk_capture: sdk_events=3 sdk_tool_calls=1",
      ],
    });
  });

  test("no connect hook events: coverage absent, scope not_applicable", () => {
    const f = facts({ backend: "strace" });
    f.hooks.connect.emitted = 0;
    const h = health(layers({ kernel: { facts: f, normalized: kernelResult() } }), "linux");
    assert.equal(h.network_protocol_coverage, "absent");
    assert.equal(h.network_endpoint_claim_scope, "not_applicable");
    assert.deepEqual(h.notes, [
      "s2_kernel_capture: monitor_events=4 ringbuf_drops=0 network_protocol_coverage=absent network_endpoint_claim_scope=not_applicable backend=strace",
    ]);
    assert.equal(h.policy_layer, "absent");
    assert.equal(h.sdk_layer, "absent");
  });

  test("connect events lost but none emitted: coverage unknown", () => {
    const f = facts();
    f.hooks.connect = { emitted: 0, dropped: 3 };
    const h = health(layers({ kernel: { facts: f, normalized: kernelResult() } }), "linux");
    assert.equal(h.network_protocol_coverage, "unknown");
    assert.equal(h.network_endpoint_claim_scope, "unknown");
  });

  test("drops: partial_ringbuf_drops and the drop_breakdown note", () => {
    const f = facts({ drops: 7 });
    f.hooks.openat = { emitted: 120, dropped: 5 };
    f.hooks.openat2 = { emitted: 3, dropped: 0 };
    f.hooks.connect = { emitted: 4, dropped: 2 };
    const normalized = kernelResult({
      retained: 9,
      filtered: 31,
      filteredTop: [
        { path: "/usr/lib/libc.so.6", count: 12 },
        { path: "/proc/self/maps", count: 3 },
      ],
    });
    const h = health(layers({ kernel: { facts: f, normalized } }), "linux");
    assert.equal(h.kernel_layer, "partial_ringbuf_drops");
    assert.equal(h.ringbuf_drops, 7);
    assert.equal(h.cgroup_correlation, "clean");
    assert.deepEqual(h.notes, [
      "s2_kernel_capture: monitor_events=9 ringbuf_drops=7 network_protocol_coverage=connect_only network_endpoint_claim_scope=diagnostic_only" +
        " drop_breakdown=tracepoint:7 lsm:0 socket:0 emitted=tracepoint:127 lsm:0 socket:0" +
        " tracepoint_hooks=openat:120/5 openat2:3/0 connect:4/2 sendto:0/0 sendmsg:0/0" +
        " filtered_loader_events=31 filtered_loader_top=[12x:/usr/lib/libc.so.6,3x:/proc/self/maps] backend=bpftrace",
    ]);
  });

  test("drops and no network events: coverage absent becomes unknown", () => {
    const f = facts({ drops: 1 });
    f.hooks.connect.emitted = 0;
    const h = health(layers({ kernel: { facts: f, normalized: kernelResult() } }), "linux");
    assert.equal(h.network_protocol_coverage, "unknown");
    assert.match(h.notes[0] ?? "", /filtered_loader_top=\[\] backend=bpftrace$/);
  });

  for (const [why, f] of [
    ["a backend line that did not parse", facts({ parse_errors: 1, drops: 4 })],
    ["the stream closing before the agent exited", facts({ closed_early: true })],
  ] as const) {
    test(`${why}: cgroup correlation partial, kernel layer downgraded to absent`, () => {
      const h = health(layers({ kernel: { facts: f, normalized: kernelResult({ retained: 12 }) } }), "linux");
      assert.equal(h.kernel_layer, "absent");
      assert.equal(h.cgroup_correlation, "partial");
      assert.equal(h.ringbuf_drops, 0);
      assert.equal(h.network_protocol_coverage, "absent");
      assert.equal(h.network_endpoint_claim_scope, "not_applicable");
      assert.deepEqual(h.notes, [
        "s2_kernel_capture: monitor_events=12 cgroup_correlation=Partial kernel_layer downgraded to absent backend=bpftrace",
      ]);
    });
  }

  test("no kernel layer: absent, with the reason (and the backend tried, when one was)", () => {
    const off = health(
      layers({ kernel: { facts: null, reason: "kernel capture off (--kernel off)" }, policy: policy() }),
      "linux",
    );
    assert.equal(off.kernel_layer, "absent");
    assert.equal(off.cgroup_correlation, "partial");
    assert.equal(off.network_protocol_coverage, "absent");
    assert.equal(off.network_endpoint_claim_scope, "not_applicable");
    assert.deepEqual(off.notes, [
      "s2_kernel_capture: kernel_layer=absent reason=kernel capture off (--kernel off)",
      "s4_policy_capture: policy_events=0",
    ]);
    assert.equal(off.policy_layer, "present");
    const failed = health(
      layers({ kernel: { facts: null, reason: "attach failed", backend: "bpftrace" } }),
      "macos",
    );
    assert.deepEqual(failed.notes, [
      "s2_kernel_capture: kernel_layer=absent reason=attach failed backend=bpftrace",
    ]);
  });

  test("sdk_tool_calls counts distinct non-null ids", () => {
    const h = health(layers({ sdk: sdk("a", "b", "a", null, "b", "c") }), "linux");
    assert.equal(h.notes.at(-1), "s5_sdk_capture: sdk_events=6 sdk_tool_calls=3");
  });

  test("platform names are Rust's", () => {
    assert.deepEqual(["linux", "darwin", "win32"].map(healthPlatform), ["linux", "macos", "windows"]);
  });
});
