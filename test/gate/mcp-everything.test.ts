import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
  LoggingMessageNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
} from "@modelcontextprotocol/sdk/types.js";
import {
  assertBuilt,
  connectWrap,
  decisions,
  EVERYTHING_SERVER,
  type WrapSession,
  waitFor,
  within,
} from "./helpers.js";

/**
 * The official MCP client drives `assay mcp wrap` around @modelcontextprotocol/server-everything,
 * with a pack that allows everything but `get-env`: what is tested is that every feature of the
 * protocol still works through the gate, in both directions.
 */
const SECRET = "assay-gate-test-secret-4f1c";
let dir: string;
let log: string;
let s: WrapSession;
let toolCalls = 0;

const seen = {
  sampling: [] as unknown[],
  elicitation: [] as unknown[],
  rootsRequests: 0,
  logs: [] as Array<{ level: string; data: unknown }>,
  updated: [] as string[],
  toolListChanged: 0,
  /** Every message the client received and sent, as JSON-RPC. */
  inbound: [] as JSONRPCMessage[],
  outbound: [] as JSONRPCMessage[],
};

type ToolResult = {
  isError?: boolean;
  content: Array<{ type: string; text?: string; data?: string }>;
  structuredContent?: unknown;
};

/** A tools/call through the gate; checks that its record was in the log when the answer arrived. */
async function callTool(
  name: string,
  args: Record<string, unknown> = {},
  options?: Parameters<WrapSession["client"]["callTool"]>[2],
) {
  const r = (await s.client.callTool({ name, arguments: args }, undefined, options)) as ToolResult;
  toolCalls++;
  assert.equal(decisions(log).length, toolCalls, `one record per tools/call, before its answer (${name})`);
  return r;
}

const text = (r: ToolResult) => r.content.map((c) => c.text ?? "").join("\n");

before(async () => {
  assertBuilt();
  dir = await mkdtemp(join(tmpdir(), "assay-everything-"));
  log = join(dir, "decisions.ndjson");
  const pack = join(dir, "pack.yaml");
  await writeFile(
    pack,
    `
id: everything
version: "1.0.0"
defaults: allow
rules:
  - id: no-env
    dimension: security
    severity: high
    tools: { deny: ["get-env"] }
`,
  );
  s = await connectWrap(
    ["--policy", pack, "--decision-log", log],
    [process.execPath, EVERYTHING_SERVER, "stdio"],
    {
      capabilities: { capabilities: { sampling: {}, elicitation: {}, roots: { listChanged: true } } },
      env: { ASSAY_GATE_TEST_SECRET: SECRET },
      setup: (client) => {
        client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
          seen.sampling.push(req.params);
          return {
            model: "test-model",
            role: "assistant",
            content: { type: "text", text: "sampled through the gate" },
          };
        });
        client.setRequestHandler(ElicitRequestSchema, async (req) => {
          seen.elicitation.push(req.params);
          return { action: "accept", content: { name: "Ada Lovelace", check: true } };
        });
        client.setRequestHandler(ListRootsRequestSchema, async () => {
          seen.rootsRequests++;
          return { roots: [{ uri: "file:///workspace/project", name: "project" }] };
        });
        client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => {
          seen.logs.push(n.params as { level: string; data: unknown });
        });
        client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => {
          seen.updated.push(n.params.uri);
        });
        client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
          seen.toolListChanged++;
        });
      },
    },
  );
  // See the raw traffic too, without changing it.
  const onmessage = s.transport.onmessage;
  s.transport.onmessage = (m: JSONRPCMessage) => {
    seen.inbound.push(m);
    onmessage?.(m);
  };
  const send = s.transport.send.bind(s.transport);
  s.transport.send = (m: JSONRPCMessage) => {
    seen.outbound.push(m);
    return send(m);
  };
});

after(async () => {
  await s?.close();
  await rm(dir, { recursive: true, force: true });
});

describe("assay mcp wrap around server-everything: every feature passes through", () => {
  test("initialize: server info, capabilities and instructions arrive unchanged", () => {
    assert.equal(s.client.getServerVersion()?.name, "mcp-servers/everything");
    const caps = s.client.getServerCapabilities();
    for (const c of ["tools", "resources", "prompts", "logging"] as const) assert.ok(caps?.[c], c);
    assert.equal(caps?.resources?.subscribe, true);
    assert.match(s.client.getInstructions() ?? "", /Everything Server/);
  });

  test("tools: listed (minus the denied one), list_changed notifications, plain calls", async () => {
    // The server registers client-dependent tools after initialization and says so.
    await waitFor(5000, "notifications/tools/list_changed", () => seen.toolListChanged > 0);
    const names = (await s.client.listTools()).tools.map((t) => t.name);
    for (const n of [
      "echo",
      "get-sum",
      "trigger-long-running-operation",
      "trigger-sampling-request",
      "trigger-elicitation-request",
      "get-roots-list",
    ]) {
      assert.ok(names.includes(n), `${n} in ${names.join(",")}`);
    }
    assert.ok(!names.includes("get-env"), "the denied tool is not listed");
    assert.equal(text(await callTool("echo", { message: "héllo ✓" })), "Echo: héllo ✓");
    assert.match(text(await callTool("get-sum", { a: 2, b: 40 })), /42/);
    const structured = await callTool("get-structured-content", { location: "Chicago" });
    assert.equal(typeof (structured.structuredContent as { temperature: number }).temperature, "number");
    const image = await callTool("get-tiny-image");
    assert.ok(image.content.some((c) => c.type === "image" && (c.data ?? "").length > 0));
    const links = await callTool("get-resource-links", { count: 2 });
    assert.equal(links.content.filter((c) => c.type === "resource_link").length, 2);
    const annotated = await callTool("get-annotated-message", {
      messageType: "success",
      includeImage: false,
    });
    assert.ok(annotated.content.length > 0);
  });

  test("a denied tool: an isError result, and the server never ran it", async () => {
    const r = await callTool("get-env");
    assert.equal(r.isError, true);
    assert.match(text(r), /no-env/);
    assert.ok(
      !JSON.stringify(r).includes(SECRET),
      "the server's environment did not leak: get-env never ran",
    );
    const d = decisions(log).at(-1);
    assert.equal(d?.data.outcome, "denied");
    assert.equal(d?.data.tool, "get-env");
  });

  test("progress notifications of a long-running call reach the client", async () => {
    const progress: Array<{ progress: number; total?: number }> = [];
    const r = await callTool(
      "trigger-long-running-operation",
      { duration: 0.3, steps: 3 },
      { onprogress: (p) => progress.push(p) },
    );
    assert.match(text(r), /Long running operation completed/);
    // The server sometimes answers before its last progress notification (also without the gate).
    assert.ok(progress.length >= 2, JSON.stringify(progress));
    assert.deepEqual(progress[0], { progress: 1, total: 3 });
  });

  test("sampling: the server's sampling/createMessage request is answered by the client's handler", async () => {
    const r = await callTool("trigger-sampling-request", { prompt: "say hi", maxTokens: 20 });
    assert.match(text(r), /sampled through the gate/);
    assert.equal(seen.sampling.length, 1);
    assert.equal((seen.sampling[0] as { maxTokens: number }).maxTokens, 20);
  });

  test("elicitation: the server's elicitation/create request reaches the client and the answer goes back", async () => {
    const r = await callTool("trigger-elicitation-request");
    assert.match(text(r), /Ada Lovelace/);
    assert.equal(seen.elicitation.length, 1);
  });

  test("roots: the server asks the client for roots, also after roots/list_changed", async () => {
    const r = await callTool("get-roots-list");
    assert.match(text(r), /file:\/\/\/workspace\/project/);
    const before = seen.rootsRequests;
    assert.ok(before >= 1);
    await s.client.sendRootsListChanged();
    await waitFor(5000, "roots/list after roots/list_changed", () => seen.rootsRequests > before);
  });

  test("resources: list, templates, read, subscribe and update notifications, unsubscribe", async () => {
    await s.client.setLoggingLevel("debug");
    const resources = (await s.client.listResources()).resources;
    assert.ok(resources.length > 0);
    const templates = (await s.client.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
    assert.ok(templates.includes("demo://resource/dynamic/text/{resourceId}"), templates.join(","));
    const uri = "demo://resource/dynamic/text/1";
    const read = await s.client.readResource({ uri });
    assert.match((read.contents[0] as { text: string }).text, /Resource 1/);
    const first = resources[0] as { uri: string };
    assert.equal((await s.client.readResource({ uri: first.uri })).contents[0]?.uri, first.uri);

    await s.client.subscribeResource({ uri });
    await waitFor(5000, "the subscribe log message", () =>
      seen.logs.some((l) => String(l.data).includes("Subscribe")),
    );
    await callTool("toggle-subscriber-updates");
    try {
      await waitFor(5000, "notifications/resources/updated", () => seen.updated.includes(uri));
    } finally {
      await callTool("toggle-subscriber-updates");
    }
    await s.client.unsubscribeResource({ uri });
  });

  test("prompts and completion", async () => {
    const prompts = (await s.client.listPrompts()).prompts.map((p) => p.name);
    assert.ok(prompts.includes("simple-prompt") && prompts.includes("args-prompt"), prompts.join(","));
    const simple = await s.client.getPrompt({ name: "simple-prompt" });
    assert.ok(simple.messages.length > 0);
    const args = await s.client.getPrompt({ name: "args-prompt", arguments: { city: "Paris" } });
    assert.match(JSON.stringify(args.messages), /Paris/);
    const completion = await s.client.complete({
      ref: { type: "ref/prompt", name: "completable-prompt" },
      argument: { name: "department", value: "Eng" },
    });
    assert.deepEqual(completion.completion.values, ["Engineering"]);
  });

  test("logging: setLevel, and the server's log notifications reach the client", async () => {
    await s.client.setLoggingLevel("debug");
    const before = seen.logs.length;
    await callTool("toggle-simulated-logging");
    try {
      await waitFor(5000, "a notifications/message", () => seen.logs.length > before);
    } finally {
      await callTool("toggle-simulated-logging");
    }
  });

  test("ping", async () => {
    assert.deepEqual(await within(5000, "ping", s.client.ping()), {});
  });

  test("tasks: a task-augmented tools/call, tasks/get, tasks/list and tasks/cancel", async () => {
    const tasks = s.client.experimental.tasks;
    let taskId: string | undefined;
    for await (const m of tasks.callToolStream({
      name: "simulate-research-query",
      arguments: { topic: "gates" },
    })) {
      if (m.type === "taskCreated") {
        taskId = m.task.taskId;
        break;
      }
      assert.notEqual(m.type, "error", JSON.stringify(m));
    }
    toolCalls++;
    assert.ok(taskId, "a task was created");
    assert.equal(decisions(log).length, toolCalls, "the task-augmented call was decided and recorded once");
    assert.equal((await tasks.getTask(taskId)).taskId, taskId);
    assert.ok((await tasks.listTasks()).tasks.some((t) => t.taskId === taskId));
    await tasks.cancelTask(taskId);
    assert.equal((await tasks.getTask(taskId)).status, "cancelled");
  });

  test("cancellation: aborting a call sends notifications/cancelled through the gate and the server drops it", async () => {
    const ac = new AbortController();
    const progress: unknown[] = [];
    const t0 = Date.now();
    const pending = s.client.callTool(
      { name: "trigger-long-running-operation", arguments: { duration: 1.6, steps: 8 } },
      undefined,
      {
        signal: ac.signal,
        onprogress: (p) => {
          progress.push(p);
          ac.abort("the user changed their mind");
        },
      },
    );
    await assert.rejects(within(5000, "the aborted call to settle", pending));
    toolCalls++;
    assert.ok(Date.now() - t0 < 1500, "the call was given up before it finished");
    const call = seen.outbound.find(
      (m) =>
        "method" in m &&
        m.method === "tools/call" &&
        (m.params as { name: string }).name === "trigger-long-running-operation" &&
        "id" in m &&
        seen.outbound.some(
          (c) =>
            "method" in c &&
            c.method === "notifications/cancelled" &&
            (c.params as { requestId: unknown }).requestId === m.id,
        ),
    ) as { id: number } | undefined;
    assert.ok(call, "the client sent notifications/cancelled for the call");
    // Had the cancellation not reached the server, its answer would come at ~1.6 s.
    await new Promise((r) => setTimeout(r, Math.max(0, 2000 - (Date.now() - t0))));
    assert.ok(
      !seen.inbound.some((m) => "id" in m && m.id === call.id && ("result" in m || "error" in m)),
      "the server never answered the cancelled call",
    );
    assert.equal(decisions(log).length, toolCalls);
    // The session is still fine.
    assert.equal(text(await callTool("echo", { message: "after" })), "Echo: after");
  });

  test("the decision log: one record per tools/call, all forwarded but the denied one", () => {
    const ds = decisions(log);
    assert.equal(ds.length, toolCalls);
    assert.deepEqual(
      ds.filter((d) => d.data.outcome !== "forwarded").map((d) => [d.data.tool, d.data.outcome]),
      [["get-env", "denied"]],
    );
    const sent = seen.outbound.filter((m) => "method" in m && m.method === "tools/call").length;
    assert.equal(sent, toolCalls, "the client sent as many tools/call as there are records");
  });
});
