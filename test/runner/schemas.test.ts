import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import { schemaValidator } from "../../src/lib/schema-validator.js";
import { VALIDATOR_SPECS, type ValidatorName } from "../../src/lib/validator-specs.js";
import { readSchema } from "../read-schema.js";
import { goldenText, S5_RUN_ID, s5 } from "./contract-fixtures.js";

const RUNNER_SCHEMAS: Record<string, string> = {
  "runner-observation-health": "runner-observation-health-v0.schema.json",
  "runner-capability-surface": "runner-capability-surface-v0.schema.json",
  "runner-correlation-report": "runner-correlation-report-v0.schema.json",
  "runner-archive-manifest": "runner-archive-manifest-v0.schema.json",
  "runner-policy-event": "runner-policy-event-v0.schema.json",
  "runner-sdk-event": "runner-sdk-event-v0.schema.json",
  "runner-run-event": "runner-run-event-v0.schema.json",
  "runner-capability-diff": "runner-capability-diff-v0.schema.json",
  "runner-kernel-event": "runner-kernel-event-v0.schema.json",
};

const KERNEL_UPSTREAM_ID =
  "https://raw.githubusercontent.com/Rul1an/assay/main/docs/reference/runner/schema/kernel-event-v0.schema.json";

function accepts(name: string, doc: unknown): boolean {
  return schemaValidator(name as ValidatorName)(doc);
}

/** `doc` with `patch` applied (undefined deletes a key). */
function edit(doc: object, patch: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...doc };
  for (const [k, v] of Object.entries(patch))
    if (v === undefined) delete out[k];
    else out[k] = v;
  return out;
}

const policyLine = {
  schema: "assay.runner.policy_event.v0",
  run_id: "run_001",
  seq: 0,
  source_event_type: "assay.tool.decision",
  source: "assay://runner-spike/run_001",
  tool_call_id: "tc_runner_policy_001",
  tool: "read_file",
  decision: "allow",
};
const sdkLine = {
  schema: "assay.runner.sdk_event.v0",
  run_id: "run_001",
  seq: 0,
  event_type: "tool_call_started",
  source: "openai-agents-fixture",
  sdk_name: "@openai/agents",
  sdk_version: "0.11.4",
  tool_call_id: "tc_runner_policy_001",
  tool: "read_file",
};
const started = {
  schema: "assay.runner.event.v0",
  run_id: "run_001",
  seq: 0,
  type: "run_started",
  agent_shim: "openai-agents",
  command: ["node", "agent.mjs"],
  env_keys: ["ASSAY_RUNNER_RUN_ID", "ASSAY_RUNNER_SDK_EVENT_LOG"],
  window_elapsed_ms: 0,
};
const finished = {
  schema: "assay.runner.event.v0",
  run_id: "run_001",
  seq: 1,
  type: "run_finished",
  exit_code: 0,
  signal: null,
  success: true,
  window_elapsed_ms: 812,
};
const EMPTY = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
function manifest(): Record<string, unknown> {
  const files: Record<string, unknown> = {};
  for (const path of [
    "capability-surface.json",
    "correlation-report.json",
    "events.ndjson",
    "layers/kernel.ndjson",
    "layers/policy.ndjson",
    "layers/sdk.ndjson",
    "observation-health.json",
  ])
    files[path] = { path, sha256: EMPTY, bytes: 0 };
  return { schema: "assay.runner.archive_manifest.v0", run_id: "run_001", files };
}

describe("the runner's schemas", () => {
  test("each is registered as a build-time validator, and their $ids are pinned", () => {
    for (const [name, file] of Object.entries(RUNNER_SCHEMAS)) {
      const spec = VALIDATOR_SPECS[name as ValidatorName] as { schema: string };
      assert.equal(spec.schema, file, name);
      const schema = readSchema(file);
      assert.equal(schema.$schema, "https://json-schema.org/draft/2020-12/schema", file);
      assert.equal(
        schema.$id,
        file === "runner-kernel-event-v0.schema.json"
          ? KERNEL_UPSTREAM_ID
          : `https://assay.dev/schemas/${file}`,
      );
      assert.equal(schema.additionalProperties ?? false, false, file);
    }
  });

  test("the kernel event schema is upstream's, byte for byte", () => {
    const bytes = readFileSync(new URL("../../schemas/runner-kernel-event-v0.schema.json", import.meta.url));
    assert.equal(
      createHash("sha256").update(bytes).digest("hex"),
      "1019f4485ca9bfe560eb3619995a6588e491aa14abbd4be78edebfda6d3ebd7e",
    );
    for (const example of readSchema("runner-kernel-event-v0.schema.json").examples as unknown[])
      assert.ok(accepts("runner-kernel-event", example), JSON.stringify(example));
    // The contract's §14.2: the earlier implementation emits sendto lines this schema rejects.
    const connect = { schema: "assay.runner.kernel_event.v0", run_id: "run_001", seq: 0, pid: 7 };
    assert.ok(
      accepts("runner-kernel-event", { ...connect, event_type: 2, kind: "connect", value: "1.2.3.4:53" }),
    );
    assert.ok(
      !accepts("runner-kernel-event", { ...connect, event_type: 6, kind: "sendto", value: "1.2.3.4:53" }),
    );
  });

  test("the generated validators agree with ajv compiling each schema now", () => {
    const docs = [
      s5().health,
      s5().surface,
      s5().correlation,
      manifest(),
      policyLine,
      sdkLine,
      started,
      finished,
      {},
    ];
    for (const [name, file] of Object.entries(RUNNER_SCHEMAS)) {
      const spec = VALIDATOR_SPECS[name as ValidatorName] as { options: object };
      const fresh = new Ajv2020({ ...spec.options }).compile(readSchema(file));
      for (const doc of docs) assert.equal(accepts(name, doc), fresh(doc), `${name}: ${JSON.stringify(doc)}`);
    }
  });

  test("the goldens validate", () => {
    const { health, surface, correlation } = s5();
    assert.ok(accepts("runner-observation-health", health));
    assert.ok(accepts("runner-capability-surface", surface));
    assert.ok(accepts("runner-correlation-report", correlation));
    assert.ok(
      accepts("runner-capability-diff", JSON.parse(goldenText("capability-diff-s5-idempotent-v0.json"))),
    );
  });

  test("observation health: the contract's write-time rules", () => {
    const h = s5().health;
    const ok = (patch: Record<string, unknown>) => accepts("runner-observation-health", edit(h, patch));
    assert.ok(!ok({ ringbuf_drops: 3 }), "drops with kernel_layer complete");
    assert.ok(ok({ ringbuf_drops: 3, kernel_layer: "partial_ringbuf_drops" }));
    assert.ok(
      ok({ kernel_layer: "partial_ringbuf_drops" }),
      "partial with 0 drops is legal (size mismatches)",
    );
    assert.ok(!ok({ cgroup_correlation: "failed" }), "failed never reaches an archive");
    assert.ok(ok({ cgroup_correlation: "partial", kernel_layer: "absent" }));
    assert.ok(!ok({ platform: "macos" }), "non-linux with a kernel layer");
    assert.ok(ok({ platform: "macos", kernel_layer: "absent" }));
    assert.ok(!ok({ run_id: "run:1" }), "`:` is banned in run ids");
    assert.ok(!ok({ run_id: "" }));
    assert.ok(!ok({ capture_origin: "own" }), "never written by Assay");
    assert.ok(!ok({ redaction: { mode: "shape_and_flag" } }), "never written by Assay");
    assert.ok(!ok({ network_protocol_coverage: undefined }), "the writer always writes it");
    assert.ok(!ok({ network_endpoint_claim_scope: "everything" }));
    assert.ok(!ok({ sdk_layer: "absent", schema: "assay.runner.observation_health.v1" }));
    assert.ok(!ok({ notes: ["no code here"] }));
    assert.ok(!ok({ ringbuf_drops: -1, kernel_layer: "partial_ringbuf_drops" }));
  });

  test("capability surface: sets of strings, nothing else", () => {
    const s = s5().surface;
    const ok = (patch: Record<string, unknown>) => accepts("runner-capability-surface", edit(s, patch));
    assert.ok(!ok({ mcp_tools: ["read_file", "read_file"] }));
    assert.ok(!ok({ mcp_tools: [1] }));
    assert.ok(!ok({ process_execs: undefined }));
    assert.ok(!ok({ sdk_tools: [] }));
  });

  test("correlation report: clean has no ambiguity, partial has one, bindings keep their shape", () => {
    const c = s5().correlation;
    const ok = (patch: Record<string, unknown>) => accepts("runner-correlation-report", edit(c, patch));
    const binding = c.bindings[0] as object;
    assert.ok(!ok({ ambiguities: ["policy_events_without_kernel_events"] }));
    assert.ok(ok({ status: "partial", ambiguities: ["policy_events_without_kernel_events"] }));
    assert.ok(!ok({ status: "partial" }));
    assert.ok(ok({ bindings: [] }));
    assert.ok(ok({ bindings: [{ ...binding, cgroup_id: 1234, policy_decision: null }] }));
    assert.ok(!ok({ bindings: [{ ...binding, cgroup_id: -1 }] }));
    assert.ok(!ok({ bindings: [{ ...binding, tool_call_id: "" }] }));
    assert.ok(!ok({ bindings: [edit(binding, { window: undefined })] }));
    assert.ok(!ok({ bindings: [{ ...binding, window: { start: "run_finished", end: "run_finished" } }] }));
  });

  test("archive manifest: exactly the 7 other files, each naming itself", () => {
    const m = manifest();
    const files = m.files as Record<string, Record<string, unknown>>;
    const ok = (f: Record<string, unknown>) => accepts("runner-archive-manifest", { ...m, files: f });
    assert.ok(ok(files));
    assert.ok(!ok(edit(files, { "events.ndjson": undefined })));
    assert.ok(!ok({ ...files, "manifest.json": { path: "manifest.json", sha256: EMPTY, bytes: 0 } }));
    assert.ok(!ok({ ...files, "events.ndjson": { path: "layers/sdk.ndjson", sha256: EMPTY, bytes: 0 } }));
    assert.ok(
      !ok({ ...files, "events.ndjson": { path: "events.ndjson", sha256: EMPTY.toUpperCase(), bytes: 0 } }),
    );
    assert.ok(!ok({ ...files, "events.ndjson": { path: "events.ndjson", sha256: EMPTY, bytes: -1 } }));
  });

  test("policy and SDK event lines", () => {
    assert.ok(accepts("runner-policy-event", policyLine));
    assert.ok(!accepts("runner-policy-event", { ...policyLine, tool: " read_file" }), "values are trimmed");
    assert.ok(!accepts("runner-policy-event", { ...policyLine, decision: "" }));
    assert.ok(!accepts("runner-policy-event", { ...policyLine, source_event_type: "assay.tool.call" }));

    assert.ok(accepts("runner-sdk-event", sdkLine));
    const finishedSdk = { ...sdkLine, event_type: "run_finished", tool_call_id: null, tool: null };
    assert.ok(accepts("runner-sdk-event", finishedSdk), "layers/sdk.ndjson writes absent values as null");
    assert.ok(
      accepts(
        "runner-sdk-event",
        edit(finishedSdk, { sdk_name: undefined, sdk_version: undefined, tool: undefined }),
      ),
      "the agent's input log may leave them out",
    );
    assert.ok(
      !accepts("runner-sdk-event", { ...sdkLine, tool_call_id: null }),
      "a tool event names its call",
    );
    assert.ok(!accepts("runner-sdk-event", edit(sdkLine, { tool: undefined })));
    assert.ok(!accepts("runner-sdk-event", { ...sdkLine, tool_call_id: "  " }));
    assert.ok(!accepts("runner-sdk-event", { ...sdkLine, event_type: "tool_call_failed" }));
    assert.ok(!accepts("runner-sdk-event", { ...sdkLine, timestamp: "2026-01-01T00:00:00Z" }));
  });

  test("run events: run_started or run_finished, never a mix", () => {
    assert.ok(accepts("runner-run-event", started));
    assert.ok(accepts("runner-run-event", finished));
    assert.ok(accepts("runner-run-event", { ...finished, exit_code: null, signal: 9, success: false }));
    assert.ok(!accepts("runner-run-event", { ...started, agent_shim: "OpenAI" }));
    assert.ok(!accepts("runner-run-event", { ...started, agent_shim: "-x" }));
    assert.ok(accepts("runner-run-event", { ...started, agent_shim: "gemini-google-genai" }));
    assert.ok(!accepts("runner-run-event", { ...started, exit_code: 0 }));
    assert.ok(!accepts("runner-run-event", { ...started, seq: 1 }));
    assert.ok(!accepts("runner-run-event", { ...finished, window_elapsed_ms: -1 }));
  });

  test("capability diff: statuses, preconditions and notes that go together", () => {
    const golden = JSON.parse(goldenText("capability-diff-s5-idempotent-v0.json"));
    const ok = (patch: Record<string, unknown>) => accepts("runner-capability-diff", edit(golden, patch));
    const pre = golden.preconditions;
    assert.ok(!ok({ status: "partial:unbound", notes: [] }), "reserved, never written");
    assert.ok(!ok({ preconditions: { ...pre, head_health_clean: false } }), "clean needs every precondition");
    assert.ok(
      ok({ status: "partial:health", preconditions: { ...pre, head_health_clean: false }, notes: [] }),
    );
    assert.ok(!ok({ status: "partial:health", notes: [] }), "partial:health names an unclean side");
    assert.ok(
      !ok({ status: "partial:correlation", preconditions: { ...pre, base_health_clean: false }, notes: [] }),
    );
    assert.ok(
      ok({ status: "partial:correlation", notes: [] }),
      "a binding without an id keeps every precondition",
    );
    assert.ok(!ok({ status: "partial:correlation" }), "the idempotent note is for clean diffs");
    assert.ok(!ok({ status: "failed", notes: [] }));
    assert.ok(
      ok({ status: "failed", notes: ["capability_diff_failed: tool_call_id x appears more than once"] }),
    );
    assert.ok(!ok({ notes: ["capability_diff_other: x"] }));
    const added = { ...golden.binding_ids, added: ["tc_2"] };
    assert.ok(!ok({ binding_ids: added }), "the idempotent note means nothing was added");
    assert.ok(ok({ binding_ids: added, notes: [] }));
    assert.ok(!ok({ ambiguities: ["x"] }));
    assert.ok(!ok({ unbound: { ...golden.unbound, mcp_tools: ["read_file"] } }));
    assert.ok(!ok({ base_run_id: "" }));
    assert.ok(!ok({ scope: { ...golden.scope, uses_raw_telemetry: true } }));
    assert.ok(accepts("runner-capability-diff", { ...golden, base_run_id: S5_RUN_ID, head_run_id: "run_2" }));
  });
});
