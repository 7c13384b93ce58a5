import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { AssayError } from "../../src/lib/errors.js";
import { SDK_ENV } from "../../src/runner/contract.js";
import { openSdkEventLog } from "../../src/runner/sdk-events.js";
import { tempDir } from "../temp-dir.js";

const SCHEMA = "assay.runner.sdk_event.v0";

function runnerEnv(log: string): NodeJS.ProcessEnv {
  return { [SDK_ENV.log]: log, [SDK_ENV.runId]: "run_sdk_events", [SDK_ENV.schema]: SCHEMA };
}

function lines(path: string): string[] {
  return readFileSync(path, "utf8").split("\n").slice(0, -1);
}

function assayCode(code: string): (err: unknown) => boolean {
  return (err) => err instanceof AssayError && err.code === code;
}

describe("openSdkEventLog", () => {
  test("writes one line per event, fields in contract order, seq from 0", async (t) => {
    const log = join(tempDir("assay-sdk-events-", t), "sdk.ndjson");
    const sdk = openSdkEventLog({
      source: "fixture",
      sdkName: "@x/sdk",
      sdkVersion: "1.2.3",
      env: runnerEnv(log),
    });
    assert.equal(sdk.enabled, true);
    sdk.toolCallStarted("tc_1", "read_file");
    sdk.toolCallCompleted("tc_1", "read_file");
    sdk.runFinished();
    await sdk.close();
    assert.equal(
      readFileSync(log, "utf8"),
      [
        `{"schema":"${SCHEMA}","run_id":"run_sdk_events","seq":0,"event_type":"tool_call_started","source":"fixture","sdk_name":"@x/sdk","sdk_version":"1.2.3","tool_call_id":"tc_1","tool":"read_file"}`,
        `{"schema":"${SCHEMA}","run_id":"run_sdk_events","seq":1,"event_type":"tool_call_completed","source":"fixture","sdk_name":"@x/sdk","sdk_version":"1.2.3","tool_call_id":"tc_1","tool":"read_file"}`,
        `{"schema":"${SCHEMA}","run_id":"run_sdk_events","seq":2,"event_type":"run_finished","source":"fixture","sdk_name":"@x/sdk","sdk_version":"1.2.3","tool_call_id":null,"tool":null}`,
        "",
      ].join("\n"),
    );
  });

  test("absent or empty sdk name and version are written as null; run_failed has no tool", async (t) => {
    const log = join(tempDir("assay-sdk-events-", t), "sdk.ndjson");
    const sdk = openSdkEventLog({ source: "fixture", sdkVersion: " ", env: runnerEnv(log) });
    sdk.runFailed();
    await sdk.close();
    const [line] = lines(log);
    assert.deepEqual(JSON.parse(line ?? ""), {
      schema: SCHEMA,
      run_id: "run_sdk_events",
      seq: 0,
      event_type: "run_failed",
      source: "fixture",
      sdk_name: null,
      sdk_version: null,
      tool_call_id: null,
      tool: null,
    });
  });

  test("events fired without waiting land in call order", async (t) => {
    const log = join(tempDir("assay-sdk-events-", t), "sdk.ndjson");
    const sdk = openSdkEventLog({ source: "fixture", env: runnerEnv(log) });
    for (let i = 0; i < 200; i++) sdk.toolCallStarted(`tc_${i}`, "t");
    await sdk.close();
    const got = lines(log).map((l) => JSON.parse(l) as { seq: number; tool_call_id: string });
    assert.equal(got.length, 200);
    got.forEach((e, i) => {
      assert.equal(e.seq, i);
      assert.equal(e.tool_call_id, `tc_${i}`);
    });
  });

  test("appends to a file the runner already created", async (t) => {
    const log = join(tempDir("assay-sdk-events-", t), "sdk.ndjson");
    writeFileSync(log, "");
    const sdk = openSdkEventLog({ source: "fixture", env: runnerEnv(log) });
    sdk.runFinished();
    await sdk.close();
    assert.equal(lines(log).length, 1);
  });

  test("outside the runner it writes nothing and still checks its calls", async () => {
    const sdk = openSdkEventLog({ source: "fixture", env: {} });
    assert.equal(sdk.enabled, false);
    sdk.toolCallStarted("tc_1", "read_file");
    sdk.runFinished();
    assert.throws(() => sdk.toolCallCompleted("", "read_file"), assayCode("runner_contract_invalid"));
    await sdk.close();
  });

  test("refuses unusable runner variables and an empty source", (t) => {
    const log = join(tempDir("assay-sdk-events-", t), "sdk.ndjson");
    const env = runnerEnv(log);
    assert.throws(
      () => openSdkEventLog({ source: "f", env: { ...env, [SDK_ENV.runId]: undefined } }),
      assayCode("runner_contract_invalid"),
    );
    assert.throws(
      () => openSdkEventLog({ source: "f", env: { ...env, [SDK_ENV.runId]: "run:1" } }),
      assayCode("runner_contract_invalid"),
    );
    assert.throws(
      () => openSdkEventLog({ source: "f", env: { ...env, [SDK_ENV.schema]: "assay.runner.sdk_event.v1" } }),
      assayCode("runner_contract_invalid"),
    );
    assert.throws(() => openSdkEventLog({ source: " ", env }), assayCode("runner_contract_invalid"));
    assert.equal(existsSync(log), false);
  });

  test("tool events need an id and a tool name", async (t) => {
    const log = join(tempDir("assay-sdk-events-", t), "sdk.ndjson");
    const sdk = openSdkEventLog({ source: "fixture", env: runnerEnv(log) });
    assert.throws(() => sdk.toolCallStarted(" ", "read_file"), assayCode("runner_contract_invalid"));
    assert.throws(() => sdk.toolCallStarted("tc_1", ""), assayCode("runner_contract_invalid"));
    sdk.runFinished();
    await sdk.close();
    // A refused event takes no seq.
    assert.equal((JSON.parse(lines(log)[0] ?? "") as { seq: number }).seq, 0);
  });

  test("a log that cannot be written is reported by close, never by an unawaited event", async (t) => {
    const log = join(tempDir("assay-sdk-events-", t), "missing-dir", "sdk.ndjson");
    const sdk = openSdkEventLog({ source: "fixture", env: runnerEnv(log) });
    sdk.toolCallStarted("tc_1", "read_file");
    sdk.runFinished();
    await assert.rejects(sdk.close(), assayCode("output_unwritable"));
  });

  test("an event after close is a usage error", async (t) => {
    const log = join(tempDir("assay-sdk-events-", t), "sdk.ndjson");
    const sdk = openSdkEventLog({ source: "fixture", env: runnerEnv(log) });
    await sdk.close();
    assert.throws(() => sdk.runFinished(), assayCode("usage"));
    assert.equal(readFileSync(log, "utf8"), "");
  });

  test("the helper does no synchronous file I/O (it runs inside agents' async paths)", () => {
    const source = readFileSync(new URL("../../src/runner/sdk-events.ts", import.meta.url), "utf8");
    assert.doesNotMatch(source, /\b\w+Sync\b|from "node:fs"/);
  });
});
