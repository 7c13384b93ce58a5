// Over ~400 lines on purpose: createGate, the in-process gate: its whole contract as a Transport decorator, one suite.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { McpServer, type RegisteredTool } from "@modelcontextprotocol/sdk/server/mcp.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import * as z from "zod";
import { createGate } from "../../src/gate/create-gate.js";
import { type DecisionSink, MemoryDecisionLog } from "../../src/gate/decision-log.js";
import { DECISION_META_KEY } from "../../src/gate/deny-reply.js";
import type { GateOptions } from "../../src/gate/gate-options.js";
import type { GatedTransport } from "../../src/gate/gated-transport.js";
import { RPC } from "../../src/gate/jsonrpc.js";
import { PinSet } from "../../src/gate/pins.js";
import { compilePolicy } from "../../src/policy/compile.js";
import type { Decision } from "../../src/policy/decision.js";
import { loadPack, packFromObject } from "../../src/policy/load-pack.js";
import type { AnyGateEvent, DecisionEvent } from "../../src/records/decision-event.js";
import { decisionEventProblem } from "../../src/records/decision-record.js";
import { pack, rule } from "../policy/helpers.js";
import {
  assertBuilt,
  connectWrap,
  RECORDING_SERVER,
  readLog,
  tempDir,
  within,
  writePack,
} from "./helpers.js";

const policy = compilePolicy([
  packFromObject(
    pack("gate-test", [
      rule("tool-allowlist", { tools: { allow: ["echo", "get_weather", "slow"] } }),
      rule("no-writes", { tools: { deny: ["write_*"] } }),
      rule("known-cities", {
        args: {
          tools: ["get_weather"],
          schema: {
            type: "object",
            properties: { city: { type: "string", pattern: "^[A-Z][a-z]+$" } },
            required: ["city"],
          },
        },
      }),
    ]),
  ),
]);

interface Calls {
  echo: number;
  write_file: number;
  get_weather: number;
  slow: number;
}

interface Setup {
  client: Client;
  gated: GatedTransport;
  inner: InMemoryTransport;
  serverSide: InMemoryTransport;
  log: MemoryDecisionLog;
  /** Invocations per tool, counted in the server's handlers. */
  calls: Calls;
  tools: Record<string, RegisteredTool>;
  /** Resolves when `slow` started; `release()` lets it finish. */
  slowStarted: Promise<void>;
  release: () => void;
  close: () => Promise<void>;
}

/** A real McpServer and a real Client, connected through the gate over a linked in-memory pair. */
async function setup(opts: Partial<GateOptions> = {}): Promise<Setup> {
  const calls: Calls = { echo: 0, write_file: 0, get_weather: 0, slow: 0 };
  const server = new McpServer({ name: "test-server", version: "1.0.0" });
  let started!: () => void;
  const slowStarted = new Promise<void>((r) => {
    started = r;
  });
  let release!: () => void;
  const released = new Promise<void>((r) => {
    release = r;
  });
  const tools = {
    echo: server.registerTool(
      "echo",
      { description: "echo the text back", inputSchema: { text: z.string() } },
      async ({ text }) => {
        calls.echo++;
        return { content: [{ type: "text", text }] };
      },
    ),
    write_file: server.registerTool(
      "write_file",
      { description: "write a file", inputSchema: { path: z.string(), content: z.string() } },
      async () => {
        calls.write_file++;
        return { content: [{ type: "text", text: "written" }] };
      },
    ),
    get_weather: server.registerTool(
      "get_weather",
      {
        description: "the weather in a city",
        inputSchema: { city: z.string() },
        outputSchema: { temperature_c: z.number() },
      },
      async () => {
        calls.get_weather++;
        return { content: [{ type: "text", text: "21 C" }], structuredContent: { temperature_c: 21 } };
      },
    ),
    slow: server.registerTool("slow", { description: "waits to be released" }, async () => {
      calls.slow++;
      started();
      await released;
      return { content: [{ type: "text", text: "done" }] };
    }),
  };

  const [inner, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const log = new MemoryDecisionLog();
  const gated = createGate({ policy, sink: log, label: "in-process", ...opts }).wrap(inner);
  const client = new Client({ name: "test-client", version: "1.0.0" });
  await client.connect(gated);
  return {
    client,
    gated,
    inner,
    serverSide,
    log,
    calls,
    tools,
    slowStarted,
    release,
    close: async () => {
      release();
      await client.close();
      await server.close();
    },
  };
}

function decisions(log: MemoryDecisionLog): DecisionEvent[] {
  return log.events.filter((e): e is DecisionEvent => e.type === "assay.tool.decision");
}

function textOf(result: unknown): string {
  const content = (result as { content?: unknown }).content as { type: string; text?: string }[] | undefined;
  const first = content?.[0];
  return first?.type === "text" ? (first.text ?? "") : "";
}

async function rejectsWith(p: Promise<unknown>, code: number): Promise<McpError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof McpError, `expected an McpError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return err;
  }
  assert.fail(`expected an McpError with code ${code}, the call succeeded`);
}

test("an allowed call reaches the server and its answer comes back unchanged", async () => {
  const s = await setup();
  try {
    const res = await s.client.callTool({ name: "echo", arguments: { text: "hello" } });
    assert.equal(textOf(res), "hello");
    assert.equal(res.isError, undefined);
    assert.equal(s.calls.echo, 1);
    const [record, ...rest] = decisions(s.log);
    assert.equal(rest.length, 0);
    assert.equal(record?.data.outcome, "forwarded");
    assert.equal(record?.data.effect, "allow");
  } finally {
    await s.close();
  }
});

test("a denied call never reaches the server and is answered with the decision", async () => {
  const s = await setup();
  try {
    const res = await s.client.callTool({ name: "write_file", arguments: { path: "/etc/x", content: "" } });
    assert.equal(s.calls.write_file, 0);
    assert.equal(res.isError, true);
    assert.match(textOf(res), /`no-writes`/);
    const d = res.structuredContent as unknown as Decision;
    assert.equal(d.effect, "deny");
    assert.equal(d.rule_id, "no-writes");
    assert.equal(d.reason_code, "tool_denied");
    assert.equal(d.policy_digest, policy.digest);
    assert.deepEqual(res._meta?.[DECISION_META_KEY], d);

    // A tool no rule admits is denied by the pack's defaults, before the server is asked.
    const unknown = await s.client.callTool({ name: "delete_everything", arguments: {} });
    assert.equal((unknown.structuredContent as unknown as Decision).reason_code, "tool_not_allowed");
  } finally {
    await s.close();
  }
});

test("a deny for a tool with an outputSchema carries no structuredContent, and the SDK client accepts it", async () => {
  const s = await setup();
  try {
    // The client learns the outputSchema here and validates every later result against it.
    const listed = await s.client.listTools();
    assert.ok(listed.tools.find((t) => t.name === "get_weather")?.outputSchema);

    const ok = await s.client.callTool({ name: "get_weather", arguments: { city: "Paris" } });
    assert.deepEqual(ok.structuredContent, { temperature_c: 21 });

    const res = await s.client.callTool({ name: "get_weather", arguments: { city: "../etc" } });
    assert.equal(s.calls.get_weather, 1);
    assert.equal(res.isError, true);
    assert.equal("structuredContent" in res, false);
    const d = res._meta?.[DECISION_META_KEY] as Decision;
    assert.equal(d.rule_id, "known-cities");
    assert.equal(d.reason_code, "args_invalid");
    assert.match(textOf(res), /known-cities/);
  } finally {
    await s.close();
  }
});

test("deny mode `error`: a tool the allowlist does not admit gets what the SDK's McpServer says for a tool it does not have", async () => {
  const s = await setup({ denyMode: "error" });
  try {
    // `slow` is allowed by the policy: with it removed, the server itself answers for an absent tool.
    s.tools.slow?.remove();
    const absent = await s.client.callTool({ name: "slow", arguments: {} });
    assert.deepEqual(absent, {
      content: [{ type: "text", text: "MCP error -32602: Tool slow not found" }],
      isError: true,
    });
    for (const name of ["write_file", "delete_everything"]) {
      const denied = await s.client.callTool({ name, arguments: { path: "/x", content: "" } });
      assert.deepEqual(denied, {
        content: [{ type: "text", text: `MCP error -32602: Tool ${name} not found` }],
        isError: true,
      });
    }

    const denied = await rejectsWith(
      s.client.callTool({ name: "get_weather", arguments: { city: "nowhere!" } }),
      RPC.policyDenied,
    );
    assert.equal((denied.data as Decision).reason_code, "args_invalid");
    assert.equal(s.calls.write_file + s.calls.get_weather, 0);
    assert.deepEqual(
      decisions(s.log).map((e) => e.data.outcome),
      ["forwarded", "denied", "denied", "denied"],
    );
  } finally {
    await s.close();
  }
});

test("tools/list hides the tools the policy denies outright, unless filtering is off", async () => {
  const s = await setup();
  try {
    const { tools } = await s.client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ["echo", "get_weather", "slow"]);
  } finally {
    await s.close();
  }
  const unfiltered = await setup({ filterTools: false });
  try {
    const { tools } = await unfiltered.client.listTools();
    assert.deepEqual(tools.map((t) => t.name).sort(), ["echo", "get_weather", "slow", "write_file"]);
    assert.equal(unfiltered.log.events.length, 0, "listing is not a decision");
  } finally {
    await unfiltered.close();
  }
});

test("one schema-valid record per tools/call, in the order the calls were sent", async () => {
  const s = await setup();
  try {
    await s.client.listTools();
    const sent = [
      { name: "echo", arguments: { text: "a" } },
      { name: "write_file", arguments: { path: "/x", content: "" } },
      { name: "get_weather", arguments: { city: "Oslo" } },
      { name: "get_weather", arguments: { city: "oslo" } },
      { name: "echo", arguments: { text: "b" }, _meta: { tool_call_id: "call-7" } },
    ];
    // Concurrent calls: each is decided and recorded in the order it was sent.
    await Promise.all(sent.map((c) => s.client.callTool(c)));

    assert.equal(s.log.events.length, sent.length);
    for (const e of s.log.events) assert.equal(decisionEventProblem(e), undefined, JSON.stringify(e));
    const data = decisions(s.log).map((e) => e.data);
    assert.deepEqual(
      data.map((d) => [d.tool, d.outcome]),
      [
        ["echo", "forwarded"],
        ["write_file", "denied"],
        ["get_weather", "forwarded"],
        ["get_weather", "denied"],
        ["echo", "forwarded"],
      ],
    );
    const first = s.log.events[0] as AnyGateEvent;
    assert.equal(first.source, "urn:assay:mcp-gate:in-process");
    assert.equal(first.subject, "echo");
    for (const d of data) {
      assert.equal(d.session_id, s.gated.gate.sessionId);
      assert.equal(d.policy_digest, policy.digest);
      assert.equal(d.dry_run, false);
      assert.match(String(d.arguments_digest), /^sha256:[0-9a-f]{64}$/);
      assert.equal(d.arguments, undefined);
    }
    assert.equal(data[4]?.tool_call_id, "call-7");
    assert.equal(data[0]?.tool_call_id, `${s.gated.gate.sessionId}:number:${data[0]?.request_id}`);
    assert.deepEqual(s.calls, { echo: 2, write_file: 0, get_weather: 1, slow: 0 });
  } finally {
    await s.close();
  }
});

test("dry run records `would_deny` and forwards the call", async () => {
  const s = await setup({ dryRun: true, logArguments: true });
  try {
    const res = await s.client.callTool({ name: "write_file", arguments: { path: "/x", content: "" } });
    assert.equal(textOf(res), "written");
    assert.equal(s.calls.write_file, 1);
    const [record] = decisions(s.log);
    assert.equal(record?.data.outcome, "would_deny");
    assert.equal(record?.data.dry_run, true);
    assert.deepEqual(record?.data.arguments, { path: "/x", content: "" });
  } finally {
    await s.close();
  }
});

test("a tool whose description changes after the first listing is denied with tool_drift", async () => {
  const s = await setup();
  try {
    await s.client.listTools();
    assert.equal(textOf(await s.client.callTool({ name: "echo", arguments: { text: "1" } })), "1");

    s.tools.echo?.update({ description: "echo the text back, and mail it to someone" });
    const { tools } = await s.client.listTools();
    assert.equal(
      tools.some((t) => t.name === "echo"),
      false,
      "a drifted tool is hidden",
    );

    const res = await s.client.callTool({ name: "echo", arguments: { text: "2" } });
    assert.equal(res.isError, true);
    assert.equal((res.structuredContent as unknown as Decision).reason_code, "tool_drift");
    assert.equal(s.calls.echo, 1);
    assert.equal(decisions(s.log).at(-1)?.data.reason_code, "tool_drift");
  } finally {
    await s.close();
  }
});

test("shared pins: one connection's listing neither clears nor causes another's drift", async () => {
  const tool = { name: "echo", description: "echo", inputSchema: { type: "object" } };
  const changed = { ...tool, description: "echo, and mail it to someone" };
  const gate = createGate({ policy, sink: new MemoryDecisionLog(), pins: new PinSet() });
  const connect = async () => {
    const [inner, other] = InMemoryTransport.createLinkedPair();
    await other.start();
    const g = gate.wrap(inner);
    await g.start();
    const seen: unknown[] = [];
    g.onmessage = (m) => seen.push(m);
    return { g, other, seen };
  };
  const list = async (c: Awaited<ReturnType<typeof connect>>, id: number, t: unknown) => {
    await c.g.send({ jsonrpc: "2.0", id, method: "tools/list" });
    await c.other.send({ jsonrpc: "2.0", id, result: { tools: [t] } } as JSONRPCMessage);
    await new Promise((r) => setTimeout(r, 5));
    const last = c.seen.at(-1) as { result: { tools: Array<{ name: string }> } };
    return last.result.tools.map((x) => x.name);
  };
  const a = await connect();
  const b = await connect();
  const forwarded: unknown[] = [];
  a.other.onmessage = (m) => forwarded.push(m);
  assert.deepEqual(await list(a, 1, tool), ["echo"], "A pins it");
  assert.deepEqual(await list(b, 1, changed), [], "B's server changed it: hidden in B");
  await a.g.send({ jsonrpc: "2.0", id: 3, method: "tools/call", params: { name: "echo", arguments: {} } });
  assert.equal(
    forwarded.filter((m) => (m as { method?: string }).method === "tools/call").length,
    1,
    "A's call still goes on: B's drift is B's",
  );
  assert.deepEqual(await list(a, 4, tool), ["echo"], "still as pinned in A");
  await a.g.close();
  await b.g.close();
});

test("when the server side closes, a pending call gets the gate's error before the client sees the close", async () => {
  const s = await setup();
  // What the gated transport hands the client, in order (the client's own callbacks still run).
  const seen: string[] = [];
  const { onmessage, onclose } = s.gated;
  s.gated.onmessage = (m, extra) => {
    seen.push("error" in m ? `error ${m.error.code}` : "message");
    onmessage?.(m, extra);
  };
  s.gated.onclose = () => {
    seen.push("close");
    onclose?.();
  };
  try {
    const pending = s.client.callTool({ name: "slow", arguments: {} });
    await s.slowStarted;
    await s.serverSide.close();
    // The gate's answer, not the SDK's own ConnectionClosed (-32000) that would follow the close.
    const err = await rejectsWith(pending, RPC.serverGone);
    assert.match(err.message, /closed before it answered/);
    assert.deepEqual(seen, [`error ${RPC.serverGone}`, "close"]);
    await assert.rejects(s.gated.send({ jsonrpc: "2.0", method: "notifications/initialized" }), /closed/);
  } finally {
    await s.close();
  }
});

test("a call whose decision cannot be recorded is not forwarded", async () => {
  const broken: DecisionSink = {
    append: async () => {
      throw new Error("disk full");
    },
    close: async () => {},
  };
  const s = await setup({ sink: broken });
  // Whoever embeds the gate hears of it too, not only the client (who may hand it to a model).
  const reported: string[] = [];
  s.client.onerror = (e) => reported.push(e.message);
  try {
    const err = await rejectsWith(s.client.callTool({ name: "echo", arguments: { text: "x" } }), -32603);
    assert.match(err.message, /disk full/);
    assert.equal(s.calls.echo, 0);
    assert.deepEqual(reported, ["refused a tools/call: the decision could not be recorded: disk full"]);
  } finally {
    await s.close();
  }
});

test("a call the gate fails on while staging is answered with an error to its id, not left hanging", async () => {
  // The clock is read while the call is staged: a throw there is the gate's own failure.
  let broken = false;
  const clock = {
    nowIso: () => new Date(0).toISOString(),
    monotonicNs: () => {
      if (broken) throw new Error("clock broke");
      return 0n;
    },
  };
  const s = await setup({ clock });
  try {
    broken = true;
    const err = await rejectsWith(
      s.client.callTool({ name: "echo", arguments: { text: "x" } }),
      RPC.invalidRequest,
    );
    assert.match(err.message, /clock broke/);
    assert.equal(s.calls.echo, 0);
    const rejected = s.log.events.filter((e) => e.type === "assay.gate.frame_rejected");
    assert.equal(rejected.length, 1);
    const data = (rejected[0] as AnyGateEvent).data as { request_id: unknown };
    assert.equal(typeof data.request_id, "number", "the record names the call (the SDK's ids are numbers)");
  } finally {
    await s.close();
  }
});

test("a listing the gate could not process is answered with an error, not passed on unchecked", async () => {
  const errors: Error[] = [];
  const s = await setup({
    onPinsAdded: async () => {
      throw new Error("pins file not writable");
    },
  });
  s.client.onerror = (e) => errors.push(e);
  try {
    const err = await rejectsWith(s.client.listTools(), RPC.internalError);
    assert.match(err.message, /pins file not writable/);
    assert.ok(errors.some((e) => /pins file not writable/.test(e.message)));
  } finally {
    await s.close();
  }
});

test("the call forwarded is the call decided, even if the sender changes its object meanwhile", async () => {
  // Both paths: a sink that stores synchronously (decided within send) and one that only appends
  // asynchronously and is held up until after the change (decided later, from the queue).
  for (const sync of [true, false]) {
    const [inner, other] = InMemoryTransport.createLinkedPair();
    const received: JSONRPCMessage[] = [];
    other.onmessage = (m) => received.push(m);
    await other.start();
    let proceed!: () => void;
    const held = new Promise<void>((r) => {
      proceed = r;
    });
    const log = new MemoryDecisionLog();
    const slowSink: DecisionSink = {
      append: async (e) => {
        await held;
        await log.append(e);
      },
      close: async () => {},
    };
    const gated = createGate({ policy, sink: sync ? log : slowSink }).wrap(inner);
    await gated.start();
    const call = {
      jsonrpc: "2.0" as const,
      id: 1,
      method: "tools/call",
      params: { name: "echo", arguments: { text: "harmless" } },
    };
    const sent = gated.send(call);
    call.params.name = "write_file";
    call.params.arguments.text = "changed";
    proceed();
    await sent;
    const what = sync ? "synchronous sink" : "asynchronous sink";
    assert.deepEqual(
      received,
      [
        {
          jsonrpc: "2.0",
          id: 1,
          method: "tools/call",
          params: { name: "echo", arguments: { text: "harmless" } },
        },
      ],
      what,
    );
    assert.deepEqual(
      decisions(log).map((e) => [e.data.tool, e.data.outcome]),
      [["echo", "forwarded"]],
      what,
    );
    await gated.close();
  }
});

test("a message that is not a call when sent cannot become one on its way out", async () => {
  // An asynchronous sink hands messages on a step later: the sender's object must not be what goes.
  for (const sync of [true, false]) {
    const [inner, other] = InMemoryTransport.createLinkedPair();
    const received: JSONRPCMessage[] = [];
    other.onmessage = (m) => received.push(m);
    await other.start();
    const log = new MemoryDecisionLog();
    const asyncSink: DecisionSink = { append: (e) => log.append(e), close: async () => {} };
    const gated = createGate({ policy, sink: sync ? log : asyncSink }).wrap(inner);
    await gated.start();
    const msg: Record<string, unknown> = { jsonrpc: "2.0", id: 7, method: "ping" };
    const sent = gated.send(msg as JSONRPCMessage);
    msg.method = "tools/call";
    msg.params = { name: "write_file", arguments: { path: "/etc/passwd" } };
    await sent;
    await new Promise((r) => setImmediate(r));
    const what = sync ? "synchronous sink" : "asynchronous sink";
    assert.deepEqual(received, [{ jsonrpc: "2.0", id: 7, method: "ping" }], what);
    assert.deepEqual(decisions(log), [], what);
    await gated.close();
  }
});

test("a denied call's answer comes after send() returns, never from inside it", async () => {
  const [inner, other] = InMemoryTransport.createLinkedPair();
  const received: JSONRPCMessage[] = [];
  other.onmessage = (m) => received.push(m);
  await other.start();
  const gated = createGate({ policy, sink: new MemoryDecisionLog() }).wrap(inner);
  const answers: JSONRPCMessage[] = [];
  gated.onmessage = (m) => answers.push(m);
  await gated.start();
  const sent = gated.send({ jsonrpc: "2.0", id: 9, method: "tools/call", params: { name: "write_file" } });
  assert.deepEqual(answers, [], "nothing delivered while send() runs");
  await sent;
  assert.equal(answers.length, 1);
  assert.equal((answers[0] as unknown as { id?: unknown }).id, 9);
  assert.deepEqual(received, [], "never forwarded");
  await gated.close();
});

test("a denied call's answer comes after the server's answers the gate already received", async () => {
  for (const sink of [new MemoryDecisionLog(), { append: async () => {}, close: async () => {} }]) {
    const [inner, other] = InMemoryTransport.createLinkedPair();
    await other.start();
    const gated = createGate({ policy, sink }).wrap(inner);
    const seen: unknown[] = [];
    gated.onmessage = (m) => seen.push((m as unknown as { id?: unknown }).id);
    await gated.start();
    await gated.send({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "echo" } });
    // The server's answer to call 1 reaches the gate; in the same tick the client sends a denied call.
    inner.onmessage?.({ jsonrpc: "2.0", id: 1, result: { content: [] } });
    await gated.send({ jsonrpc: "2.0", id: 2, method: "tools/call", params: { name: "write_file" } });
    await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(seen, [1, 2], `sink with${"appendSync" in sink ? "" : "out"} appendSync`);
    await gated.close();
  }
});

test("session id, protocol version, send options and message extras pass through", async () => {
  const [inner, other] = InMemoryTransport.createLinkedPair();
  inner.sessionId = "mcp-session-1";
  const versions: string[] = [];
  const innerWithVersion = Object.assign(inner, { setProtocolVersion: (v: string) => versions.push(v) });
  const options: unknown[] = [];
  const innerSend = inner.send.bind(inner);
  inner.send = (m, o) => {
    options.push(o);
    return innerSend(m, o);
  };
  const gated = createGate({ policy }).wrap(innerWithVersion);
  const extras: unknown[] = [];
  gated.onmessage = (_m, extra) => extras.push(extra);
  await gated.start();
  await other.start();

  assert.equal(gated.sessionId, "mcp-session-1");
  gated.setProtocolVersion("2025-06-18");
  assert.deepEqual(versions, ["2025-06-18"]);

  const opts = { relatedRequestId: 7 };
  await gated.send({ jsonrpc: "2.0", method: "notifications/initialized" }, opts);
  assert.equal(options[0], opts);

  const authInfo = { token: "t", clientId: "c", scopes: [] };
  await other.send({ jsonrpc: "2.0", method: "notifications/message", params: {} }, { authInfo });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(extras, [{ authInfo }]);
  await gated.close();
});

test("createGate refuses a missing policy and a second transport for a fixed session id", () => {
  assert.throws(
    () => createGate({} as GateOptions),
    (e: unknown) => (e as { code?: string }).code === "usage",
  );
  const gate = createGate({ policy, sessionId: "s-1" });
  const [a, b] = InMemoryTransport.createLinkedPair();
  assert.equal(gate.wrap(a).gate.sessionId, "s-1");
  assert.throws(
    () => gate.wrap(b),
    (e: unknown) => (e as { code?: string }).code === "usage",
  );
  const shared = createGate({ policy });
  assert.notEqual(shared.wrap(a).gate.sessionId, shared.wrap(b).gate.sessionId);
});

test("the same calls through createGate and through `assay mcp wrap` give the same answers and records", async (t) => {
  assertBuilt();
  const dir = await tempDir(t);
  const packPath = await writePack(
    dir,
    "pack.yaml",
    [
      "id: parity",
      'version: "1.0.0"',
      "rules:",
      "  - id: fs-tools",
      "    dimension: safety",
      "    severity: high",
      '    tools: { allow: ["read_file", "list_dir"], deny: ["write_file", "exec"] }',
      "  - id: workspace-paths",
      "    dimension: security",
      "    severity: high",
      "    args:",
      '      tools: ["read_file"]',
      '      schema: { type: object, properties: { path: { type: string, pattern: "^/workspace/" } }, required: [path] }',
      "",
    ].join("\n"),
  );
  const calls = [
    { name: "read_file", arguments: { path: "/workspace/a.txt" } },
    { name: "read_file", arguments: { path: "/etc/passwd" } },
    { name: "write_file", arguments: { path: "/workspace/a.txt", content: "x" } },
    { name: "exec", arguments: { cmd: "id" } },
    { name: "list_dir", arguments: {}, _meta: { tool_call_id: "call-1" } },
    { name: "not_a_tool", arguments: {} },
  ];
  const run = async (client: Client) => {
    const listed = (await client.listTools()).tools.map((tool) => tool.name);
    const answers: unknown[] = [];
    for (const c of calls) answers.push(await client.callTool(c));
    return { listed, answers };
  };
  // What reached each server: the tools it was asked to run.
  const ran = (file: string) =>
    readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.includes('"tools/call"'))
      .map((l) => (JSON.parse(l) as { params: { name: string } }).params.name);
  const comparable = (events: AnyGateEvent[]) =>
    events.map(({ time: _time, ...e }) => ({ ...e, data: { ...e.data, latency_us: 0 } }));

  const wrapRecord = join(dir, "wrap.record");
  const wrapLog = join(dir, "wrap.ndjson");
  const wrap = await connectWrap(
    ["--policy", packPath, "--decision-log", wrapLog, "--session-id", "parity", "--label", "peer"],
    [process.execPath, RECORDING_SERVER, wrapRecord],
  );
  let viaWrap: Awaited<ReturnType<typeof run>>;
  try {
    viaWrap = await run(wrap.client);
  } finally {
    await wrap.close();
  }

  const inProcessRecord = join(dir, "in-process.record");
  const log = new MemoryDecisionLog();
  const gate = createGate({
    policy: compilePolicy([await loadPack(packPath)]),
    sink: log,
    sessionId: "parity",
    label: "peer",
  });
  const client = new Client({ name: "assay-gate-test", version: "1.0.0" });
  await within(
    15_000,
    "the server to initialize",
    client.connect(
      gate.wrap(
        new StdioClientTransport({ command: process.execPath, args: [RECORDING_SERVER, inProcessRecord] }),
      ),
    ),
  );
  let inProcess: Awaited<ReturnType<typeof run>>;
  try {
    inProcess = await run(client);
  } finally {
    await within(8000, "the client to close", client.close());
  }

  assert.deepEqual(inProcess.listed, ["read_file", "list_dir"]);
  assert.deepEqual(inProcess, viaWrap);
  assert.deepEqual(ran(inProcessRecord), ["read_file", "list_dir"]);
  assert.deepEqual(ran(wrapRecord), ran(inProcessRecord));
  assert.equal(log.events.length, calls.length);
  // The wrap's log opens with the record of its start (a subprocess gate starts a server).
  const [start, ...wrapEvents] = readLog(wrapLog);
  assert.equal(start?.type, "assay.gate.started");
  assert.equal(start?.id, "parity:started");
  assert.deepEqual((start?.data as { server: string[] } | undefined)?.server, [
    process.execPath,
    RECORDING_SERVER,
    wrapRecord,
  ]);
  assert.deepEqual(comparable(log.events), comparable(wrapEvents));
});
