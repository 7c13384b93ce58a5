#!/usr/bin/env node
// Runner fixture (a): an agent on the official MCP TypeScript SDK client, no model. It reads its
// own input, calls `read_file` once on the gated server with the client's call id in
// `params._meta.tool_call_id` (the id the gate records), and logs the call's SDK events around
// it. Capture it with `assay runner capture` (examples/runner/README.md).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import {
  connectGatedServer,
  installedVersion,
  openSdkEventLog,
  resultText,
  TOOL_CALL_ID,
  workDir,
} from "../fixture-kit.mjs";

const SDK = "@modelcontextprotocol/sdk";
const TOOL = "read_file";

const work = workDir();
const sdk = await openSdkEventLog({
  source: "mcp-sdk-fixture",
  sdkName: SDK,
  sdkVersion: await installedVersion(SDK),
});
let client;
try {
  const task = (await readFile(join(work, "mcp-sdk-input.txt"), "utf8")).trim();
  client = await connectGatedServer("assay-runner-mcp-sdk-fixture");
  sdk.toolCallStarted(TOOL_CALL_ID, TOOL);
  // callTool sends its params as given: `_meta` rides in params._meta, beside name and arguments.
  const result = await client.callTool({
    name: TOOL,
    arguments: { path: join(work, "policy-input.txt") },
    _meta: { tool_call_id: TOOL_CALL_ID },
  });
  sdk.toolCallCompleted(TOOL_CALL_ID, TOOL);
  const text = resultText(result);
  sdk.runFinished();
  process.stdout.write(`${task}\n${text.trim()}\n`);
} catch (err) {
  sdk.runFailed();
  process.exitCode = 1;
  process.stderr.write(`mcp-sdk fixture: ${err.message}\n`);
} finally {
  // The server (the gate and its child) is stopped before the agent exits, so the whole run
  // stays inside the capture window.
  await client?.close();
  await sdk.close();
}
