import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AssayError } from "../../src/lib/errors.js";
import { readSdkLayer } from "../../src/runner/sdk-layer.js";

const RUN = "run_sdk";
function ev(seq: number, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    schema: "assay.runner.sdk_event.v0",
    run_id: RUN,
    seq,
    event_type: "tool_call_started",
    source: "openai-agents-fixture",
    sdk_name: "@openai/agents",
    sdk_version: "0.11.4",
    tool_call_id: "tc_1",
    tool: "read_file",
    ...extra,
  });
}

function rejects(text: string, line: number | null, pattern: RegExp) {
  assert.throws(
    () => readSdkLayer(text, RUN, "sdk.ndjson"),
    (err: unknown) => {
      assert.ok(err instanceof AssayError);
      assert.equal(err.code, "runner_layer_invalid");
      assert.equal(err.where, line === null ? "sdk.ndjson" : `sdk.ndjson:${line}`);
      assert.match(err.message, pattern);
      return true;
    },
  );
}

describe("readSdkLayer (contract §7)", () => {
  test("lines in the layer's key order, optional fields trimmed, empty or absent as null", () => {
    const text = [
      ev(0, { tool_call_id: " tc_1 ", source: " fixture " }),
      "",
      ev(1, { event_type: "tool_call_completed", sdk_name: "", sdk_version: null, extra: "ignored" }),
      JSON.stringify({
        schema: "assay.runner.sdk_event.v0",
        run_id: RUN,
        seq: 2,
        event_type: "run_finished",
        source: "f",
      }),
      "",
    ].join("\n");
    const layer = readSdkLayer(text, RUN, "sdk.ndjson");
    assert.deepEqual(layer.events[0], {
      schema: "assay.runner.sdk_event.v0",
      run_id: RUN,
      seq: 0,
      event_type: "tool_call_started",
      source: "fixture",
      sdk_name: "@openai/agents",
      sdk_version: "0.11.4",
      tool_call_id: "tc_1",
      tool: "read_file",
    });
    assert.equal(layer.events[1]?.sdk_name, null);
    assert.equal(layer.events[1]?.sdk_version, null);
    assert.equal(
      layer.ndjson.split("\n")[2],
      `{"schema":"assay.runner.sdk_event.v0","run_id":"${RUN}","seq":2,"event_type":"run_finished","source":"f","sdk_name":null,"sdk_version":null,"tool_call_id":null,"tool":null}`,
    );
    assert.equal(layer.ndjson, layer.events.map((e) => `${JSON.stringify(e)}\n`).join(""));
  });

  test("seq is the index among non-blank lines; errors name file:line with blank lines counted", () => {
    rejects(`${ev(0)}\n\n${ev(2)}\n`, 3, /seq `2` should be `1`/);
    rejects(`\n${ev(0, { seq: "0" })}`, 2, /seq `"0"`/);
    rejects(ev(0, { seq: 0.5 }), 1, /seq/);
  });

  test("every contract violation is refused", () => {
    rejects("{", 1, /not json/);
    rejects("null", 1, /not a json object/);
    rejects(ev(0, { schema: "assay.runner.sdk_event.v1" }), 1, /schema `assay\.runner\.sdk_event\.v1`/);
    rejects(ev(0, { run_id: "run_other" }), 1, /run_id `run_other`/);
    rejects(ev(0, { run_id: undefined }), 1, /`run_id`/);
    rejects(ev(0, { event_type: "tool_call_failed" }), 1, /event_type `tool_call_failed`/);
    rejects(ev(0, { source: " " }), 1, /`source`/);
    rejects(ev(0, { tool_call_id: "" }), 1, /`tool_call_started` has no non-empty `tool_call_id`/);
    rejects(
      ev(0, { event_type: "tool_call_completed", tool: null }),
      1,
      /`tool_call_completed` has no non-empty `tool`/,
    );
    rejects(ev(0, { sdk_version: 11 }), 1, /`sdk_version` must be a string/);
  });

  test("run events need no tool fields", () => {
    const layer = readSdkLayer(
      ev(0, { event_type: "run_failed", tool_call_id: undefined, tool: undefined }),
      RUN,
      "f",
    );
    assert.equal(layer.events[0]?.tool_call_id, null);
  });

  test("a log without events is an error", () => {
    rejects("", null, /no events/);
    rejects("\n \n", null, /no events/);
  });
});
