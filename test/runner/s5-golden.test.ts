import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { schemaValidator } from "../../src/lib/schema-validator.js";
import { decisionEventProblem } from "../../src/records/decision-record.js";
import type { RawKernelEvent, RunnerLayers } from "../../src/runner/contract.js";
import { buildCorrelation } from "../../src/runner/correlation.js";
import { buildHealth } from "../../src/runner/health.js";
import { readPolicyLayer } from "../../src/runner/policy-layer.js";
import { readSdkLayer } from "../../src/runner/sdk-layer.js";
import { buildSurface } from "../../src/runner/surface.js";
import { goldenText } from "./contract-fixtures.js";
import { normalized, open } from "./kernel-events.js";
import { facts } from "./layers.js";

// The accepted S5 instance (contract §10, §11): the earlier implementation's goldens, rebuilt
// from inputs through our own functions. The goldens are pretty-printed: they fix field sets,
// key order and values, not bytes.
const FIXTURES = new URL("../fixtures/runner/normalize/", import.meta.url);
const golden = (name: string) => JSON.parse(goldenText(`${name}-openai-agents-kernel-policy-v0.json`));
const RUN = "run_openai_agents_kernel_policy_determinism";
const WORK = "/tmp/assay-runner-openai-agents-kernel-policy/work";

/** What an S5 agent's cgroup might do: loader noise, its two work files, two non-IP connects. */
const KERNEL: RawKernelEvent[] = [
  open("/etc/ld.so.cache", { pid: 40 }),
  open("/lib/x86_64-linux-gnu/libc.so.6", { pid: 40 }),
  open("/proc/self/maps", { pid: 40 }),
  open(`${WORK}/openai-agents-input.txt`, { pid: 40 }),
  open(`${WORK}/openai-agents-input.txt`, { pid: 40 }),
  { kind: "connect", pid: 40, sockaddr: null },
  open("/app/node_modules/@openai/agents/dist/index.js", { pid: 40 }),
  open(`${WORK}/policy-input.txt`, { pid: 41 }),
  { kind: "connect", pid: 41, sockaddr: null },
];

async function s5Layers(): Promise<RunnerLayers> {
  const { result } = await normalized(KERNEL, RUN);
  const f = facts();
  f.hooks.connect = { emitted: 2, dropped: 0 };
  const sdkFile = new URL("s5-sdk-events.ndjson", FIXTURES);
  return {
    runId: RUN,
    kernel: { facts: f, normalized: result },
    policy: await readPolicyLayer([fileURLToPath(new URL("s5-decision-log.ndjson", FIXTURES))], RUN),
    sdk: readSdkLayer(readFileSync(sdkFile, "utf8"), RUN, fileURLToPath(sdkFile)),
  };
}

describe("S5 goldens, rebuilt", () => {
  test("the decision log fixture is a valid record of our gate", () => {
    const text = readFileSync(new URL("s5-decision-log.ndjson", FIXTURES), "utf8");
    for (const line of text.trim().split("\n"))
      assert.equal(decisionEventProblem(JSON.parse(line)), undefined);
  });

  test("capability-surface.json equals the golden, keys in order", async () => {
    const surface = buildSurface(await s5Layers());
    assert.ok(schemaValidator("runner-capability-surface")(surface));
    assert.equal(JSON.stringify(surface), JSON.stringify(golden("capability-surface")));
  });

  test("observation-health.json equals the golden but for our backend suffix on the s2 note", async () => {
    const layers = await s5Layers();
    const health = buildHealth(layers, "linux");
    const want = golden("observation-health");
    want.notes[0] = `${want.notes[0]} backend=bpftrace`;
    assert.equal(JSON.stringify(health), JSON.stringify(want));
  });

  test("correlation-report.json equals the golden but for kernel_event_count (§14.5)", async () => {
    const layers = await s5Layers();
    const report = buildCorrelation(layers);
    const want = golden("correlation-report");
    // The golden shows monitor_events=4 and kernel_event_count=2; both count the lines of
    // layers/kernel.ndjson, so the code (theirs and ours) makes them equal.
    assert.equal(want.bindings[0].kernel_event_count, 2);
    assert.equal(layers.kernel.facts === null ? -1 : layers.kernel.normalized.retained, 4);
    want.bindings[0].kernel_event_count = 4;
    assert.equal(JSON.stringify(report), JSON.stringify(want));
  });

  test("the builders are pure: the same layers give byte-identical documents and layers (the capture's three-run check is in capture.test.ts)", async () => {
    const texts = async () => {
      const l = await s5Layers();
      return [buildHealth(l, "linux"), buildSurface(l), buildCorrelation(l)]
        .map((d) => JSON.stringify(d))
        .concat(l.policy?.ndjson ?? "", l.sdk?.ndjson ?? "");
    };
    assert.deepEqual(await texts(), await texts());
  });

  test("S5 acceptance shapes: one allow decision, three SDK events of the fixture", async () => {
    const { policy, sdk } = await s5Layers();
    assert.deepEqual(
      policy?.events.map((e) => [e.tool_call_id, e.tool, e.decision]),
      [["tc_runner_policy_001", "read_file", "allow"]],
    );
    assert.deepEqual(
      sdk?.events.map((e) => [e.event_type, e.source, e.sdk_name, e.sdk_version]),
      [
        ["tool_call_started", "openai-agents-fixture", "@openai/agents", "0.11.4"],
        ["tool_call_completed", "openai-agents-fixture", "@openai/agents", "0.11.4"],
        ["run_finished", "openai-agents-fixture", "@openai/agents", "0.11.4"],
      ],
    );
  });
});
