#!/usr/bin/env node
// Runner fixture (b): an agent on the OpenAI Agents SDK for JavaScript (@openai/agents, pinned
// exactly in package.json), with a scripted model instead of a live one: nothing reaches the
// network. The model asks for one `read_file` call with a fixed call id; the SDK runs the tool,
// which calls the gated MCP server with that id in `params._meta.tool_call_id`; the SDK's own
// lifecycle hooks, which carry the call, write the tool's SDK events. Capture it with
// `assay runner capture` (examples/runner/README.md).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { Agent, Runner, setTracingDisabled, tool, Usage } from "@openai/agents";
import { z } from "zod";
import {
  connectGatedServer,
  installedVersion,
  openSdkEventLog,
  resultText,
  TOOL_CALL_ID,
  workDir,
} from "../fixture-kit.mjs";

const SDK = "@openai/agents";
const TOOL = "read_file";
const MODEL = "scripted-read-file";

// Nothing leaves the process. The SDK's default exporter would post traces to the platform:
// tracing is off (the call, the variable the SDK reads lazily, the Runner's own setting). No key
// either, so that anything that still reached for OpenAI would fail here instead of calling out.
setTracingDisabled(true);
process.env.OPENAI_AGENTS_DISABLE_TRACING = "1";
delete process.env.OPENAI_API_KEY;

/**
 * The model: asks for `read_file` on the policy input with a fixed call id, and once the input
 * holds that call's result, answers with text. The turn is read from the conversation, not
 * from a counter, so the script says what a model would see.
 */
class ScriptedModel {
  constructor(path) {
    this.path = path;
  }

  async getResponse(request) {
    const items = Array.isArray(request.input) ? request.input : [];
    const result = items.find((i) => i.type === "function_call_result" && i.callId === TOOL_CALL_ID);
    const output = result
      ? [
          {
            type: "message",
            role: "assistant",
            status: "completed",
            content: [{ type: "output_text", text: "read the policy input through the gate" }],
          },
        ]
      : [
          {
            type: "function_call",
            callId: TOOL_CALL_ID,
            name: TOOL,
            status: "completed",
            arguments: JSON.stringify({ path: this.path }),
          },
        ];
    return { usage: new Usage(), output };
  }

  // biome-ignore lint/correctness/useYield: the fixture never streams; a streamed run is a bug here
  async *getStreamedResponse() {
    throw new Error("the scripted model does not stream");
  }
}

const work = workDir();
const sdk = await openSdkEventLog({
  source: "openai-agents-fixture",
  sdkName: SDK,
  sdkVersion: await installedVersion(SDK),
});
let client;
try {
  const prompt = (await readFile(join(work, "openai-agents-input.txt"), "utf8")).trim();
  client = await connectGatedServer("assay-runner-openai-agents-fixture");

  // A function tool, not the SDK's MCPServerStdio: the SDK's MCP tools call the server through
  // a `toolMetaResolver` that sees the run context, server, tool name and arguments but not the
  // model's call id (0.11.4, mcp.mjs `mcpToFunctionTool` drops the invoke details), so the id
  // could only be guessed from order. A function tool's execute gets the call itself (`details`).
  const readFileTool = tool({
    name: TOOL,
    description: "Read a text file and return its contents",
    parameters: z.object({ path: z.string() }),
    // Errors (a policy deny included) fail the run instead of going back to the model as text.
    errorFunction: null,
    async execute({ path }, _context, details) {
      const callId = details?.toolCall?.callId;
      if (!callId) throw new Error("the Agents SDK passed no tool call id: the call cannot be bound");
      const result = await client.callTool({
        name: TOOL,
        arguments: { path },
        _meta: { tool_call_id: callId },
      });
      return resultText(result);
    },
  });

  const runner = new Runner({
    modelProvider: { getModel: () => new ScriptedModel(join(work, "policy-input.txt")) },
    model: MODEL,
    tracingDisabled: true,
  });
  // The SDK's hooks carry the model's call (details.toolCall): the events name the call by the
  // id the gate records, never by when or in which order they happened.
  runner.on("agent_tool_start", (_context, _agent, t, { toolCall }) => {
    sdk.toolCallStarted(toolCall.callId, t.name);
  });
  runner.on("agent_tool_end", (_context, _agent, t, _result, { toolCall }) => {
    sdk.toolCallCompleted(toolCall.callId, t.name);
  });

  const agent = new Agent({
    name: "runner-fixture",
    instructions: "Read the policy input.",
    tools: [readFileTool],
  });
  const result = await runner.run(agent, prompt, { maxTurns: 3 });
  sdk.runFinished();
  process.stdout.write(`${prompt}\n${result.finalOutput}\n`);
} catch (err) {
  sdk.runFailed();
  process.exitCode = 1;
  process.stderr.write(`openai-agents fixture: ${err.message}\n`);
} finally {
  await client?.close();
  await sdk.close();
}
