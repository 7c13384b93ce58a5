import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { AssayError } from "../../src/lib/errors.js";
import { readPolicyLayer } from "../../src/runner/policy-layer.js";
import { suiteTempDir } from "../temp-dir.js";

const dir = suiteTempDir("assay-policy-layer-");
let n = 0;
function log(...lines: string[]): string {
  const file = join(dir, `decisions-${n++}.ndjson`);
  writeFileSync(file, lines.join("\n"));
  return file;
}

/** A decision record as our gate writes it (schemas/decision-event.schema.json). */
function decision(
  o: { tool?: unknown; id?: unknown; effect?: unknown; source?: unknown; outcome?: string } = {},
) {
  return JSON.stringify({
    specversion: "1.0",
    id: "s1:0",
    source: o.source ?? "urn:assay:mcp-gate:fs",
    type: "assay.tool.decision",
    time: "2026-01-02T03:04:05.678Z",
    datacontenttype: "application/json",
    subject: "read_file",
    data: {
      effect: o.effect ?? "allow",
      rule_id: "fs",
      reason_code: "allowed",
      message: "ok",
      violations: [],
      policy_digest: `sha256:${"a".repeat(64)}`,
      tool: o.tool === undefined ? "read_file" : o.tool,
      tool_call_id: o.id === undefined ? "tc_1" : o.id,
      request_id: 0,
      session_id: "s1",
      outcome: o.outcome ?? "forwarded",
      dry_run: false,
      latency_us: 10,
      arguments_digest: null,
    },
  });
}
const started = JSON.stringify({
  specversion: "1.0",
  id: "s1:start",
  source: "urn:assay:mcp-gate:fs",
  type: "assay.gate.started",
  time: "2026-01-02T03:04:05.000Z",
  datacontenttype: "application/json",
  data: {
    session_id: "s1",
    policy_digest: `sha256:${"a".repeat(64)}`,
    server: ["node", "s.js"],
    dry_run: false,
  },
});
const rejected = JSON.stringify({
  specversion: "1.0",
  id: "s1:r",
  source: "urn:assay:mcp-gate:fs",
  type: "assay.gate.frame_rejected",
  time: "2026-01-02T03:04:05.000Z",
  datacontenttype: "application/json",
  data: { request_id: null, session_id: "s1", reason: "unparsable", message: "x", bytes: 3 },
});

async function rejects(file: string, line: number, pattern: RegExp) {
  await assert.rejects(readPolicyLayer([file], "run_p"), (err: unknown) => {
    assert.ok(err instanceof AssayError);
    assert.equal(err.code, "runner_layer_invalid");
    assert.equal(err.where, `${file}:${line}`);
    assert.match(err.message, pattern);
    return true;
  });
}

describe("readPolicyLayer (contract §7)", () => {
  test("our records: gate.started skipped, frame_rejected counted, the decision is data.effect", async () => {
    const file = log(
      started,
      "",
      decision({ tool: " read_file ", id: " tc_1 ", effect: "allow" }),
      rejected,
      decision({ tool: "write_file", id: "tc_2", effect: "deny", outcome: "denied" }),
      "",
    );
    const layer = await readPolicyLayer([file], "run_p");
    assert.equal(layer.frameRejections, 1, "a refused frame is counted, not a line of the layer");
    assert.deepEqual(layer.events, [
      {
        schema: "assay.runner.policy_event.v0",
        run_id: "run_p",
        seq: 0,
        source_event_type: "assay.tool.decision",
        source: "urn:assay:mcp-gate:fs",
        tool_call_id: "tc_1",
        tool: "read_file",
        decision: "allow",
      },
      {
        schema: "assay.runner.policy_event.v0",
        run_id: "run_p",
        seq: 1,
        source_event_type: "assay.tool.decision",
        source: "urn:assay:mcp-gate:fs",
        tool_call_id: "tc_2",
        tool: "write_file",
        decision: "deny",
      },
    ]);
    assert.equal(layer.ndjson, layer.events.map((e) => `${JSON.stringify(e)}\n`).join(""));
    assert.deepEqual(Object.keys(layer.events[0] ?? {}), [
      "schema",
      "run_id",
      "seq",
      "source_event_type",
      "source",
      "tool_call_id",
      "tool",
      "decision",
    ]);
  });

  test("a dry run's deny is still `deny`: the policy's verdict, not what the gate did", async () => {
    const layer = await readPolicyLayer([log(decision({ effect: "deny", outcome: "would_deny" }))], "run_p");
    assert.equal(layer.events[0]?.decision, "deny");
  });

  test("the earlier implementation's shape (`data.decision`) is read as is", async () => {
    const upstream =
      '{"type":"assay.tool.decision","source":"assay://runner-spike/run_001","data":{"tool":"read_file","decision":"allow","tool_call_id":"tc_runner_policy_001"}}';
    const layer = await readPolicyLayer([log(upstream)], "run_p");
    assert.deepEqual(
      layer.events.map((e) => [e.source, e.tool, e.decision, e.tool_call_id]),
      [["assay://runner-spike/run_001", "read_file", "allow", "tc_runner_policy_001"]],
    );
  });

  test("several logs are concatenated in the order given, seq running on; a missing log adds nothing", async () => {
    const a = log(decision({ id: "a1" }), decision({ id: "a2" }));
    const b = log(started, decision({ id: "b1", source: "urn:assay:mcp-gate:web" }));
    const layer = await readPolicyLayer([b, join(dir, "never-started.ndjson"), a], "run_p");
    assert.deepEqual(
      layer.events.map((e) => [e.seq, e.tool_call_id, e.source]),
      [
        [0, "b1", "urn:assay:mcp-gate:web"],
        [1, "a1", "urn:assay:mcp-gate:fs"],
        [2, "a2", "urn:assay:mcp-gate:fs"],
      ],
    );
  });

  test("zero decisions is an empty layer, not an error", async () => {
    assert.deepEqual(await readPolicyLayer([log(started, "", rejected)], "run_p"), {
      events: [],
      ndjson: "",
      frameRejections: 1,
    });
    assert.deepEqual(await readPolicyLayer([], "run_p"), { events: [], ndjson: "", frameRejections: 0 });
  });

  test("malformed lines are errors located at file:line, blank lines counted", async () => {
    await rejects(log(started, "", "{not json"), 3, /not json/);
    await rejects(log("", "[1,2]"), 2, /not a json object/);
    await rejects(log('{"source":"x","data":{}}'), 1, /no string `type`/);
    await rejects(log(started, decision({ source: "  " })), 2, /`source`/);
    await rejects(log(decision({ tool: null })), 1, /`data\.tool`/);
    await rejects(log(decision({ tool: "" })), 1, /`data\.tool`/);
    await rejects(log(decision({ id: 7 })), 1, /`data\.tool_call_id`/);
    await rejects(log(decision({ effect: " " })), 1, /`data\.effect`/);
    await rejects(
      log('{"type":"assay.tool.decision","source":"s","data":{"tool":"t","tool_call_id":"c","decision":""}}'),
      1,
      /`data\.decision`/,
    );
    await rejects(log('{"type":"assay.tool.decision","source":"s","data":"x"}'), 1, /`data` object/);
  });

  test("an unreadable log (a directory) is input_unreadable", async () => {
    await assert.rejects(readPolicyLayer([dir], "run_p"), { code: "input_unreadable" });
  });
});
