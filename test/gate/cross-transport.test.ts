import assert from "node:assert/strict";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { PassThrough } from "node:stream";
import { describe, test } from "node:test";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import { createGate } from "../../src/gate/create-gate.js";
import { startHttpProxy } from "../../src/gate/http-proxy.js";
import { runStdioGate } from "../../src/gate/stdio-gate.js";
import { JsonLines, openPolicy, within } from "./helpers.js";

// One case table, every transport: what the server sends after the client's ping, and what the
// client must receive before the ping's answer. The gate's transports once disagreed here: a
// server batch whose members were all dropped went on as `[]` over stdio (and in process) but
// was dropped over HTTP. JSON-RPC 2.0 forbids an empty batch answer ("should return nothing at
// all"): every transport now sends nothing.

const policy = openPolicy();

/** A server notification with a key a case-insensitive client could read as `params`: dropped. */
const ambiguous = (n: number) => ({
  jsonrpc: "2.0",
  method: "notifications/message",
  params: { level: "info", data: `dropped ${n}` },
  Params: { level: "info", data: "what a Go client would read" },
});
const kept = { jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: "kept" } };
const exec = { name: "exec", inputSchema: { type: "object" } };
const read = { name: "read_file", inputSchema: { type: "object" } };

interface Case {
  name: string;
  /** What the server sends, in order, before it answers the ping. */
  sends: unknown[];
  /** What reaches the client before the ping's answer. */
  expected: unknown[];
}

const CASES: Case[] = [
  {
    name: "a server batch whose members are all dropped is not sent at all (never `[]`)",
    sends: [[ambiguous(1), ambiguous(2)]],
    expected: [],
  },
  {
    name: "a nested batch whose members are all dropped is dropped with its parent",
    sends: [[[ambiguous(1)]]],
    expected: [],
  },
  {
    name: "a server batch with a member dropped goes on without it",
    sends: [[ambiguous(1), kept]],
    expected: [[kept]],
  },
  {
    name: "a server batch the gate does not change goes on as it is",
    sends: [[kept, kept]],
    expected: [[kept, kept]],
  },
  {
    name: "a tool list in a server batch is filtered",
    sends: [[{ jsonrpc: "2.0", id: "l", result: { tools: [read, exec] } }]],
    expected: [[{ jsonrpc: "2.0", id: "l", result: { tools: [read] } }]],
  },
];

const PING = { jsonrpc: "2.0", id: "go", method: "ping" };

/** The client's side of one transport: send the ping, return what arrived before its answer. */
type Exchange = (sends: unknown[]) => Promise<unknown[]>;

/** A stdio MCP server (node -e) that answers the ping after writing `sends`, one per line. */
const STDIO_SERVER = `
const sends = JSON.parse(process.argv[1]);
let buf = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (c) => {
  buf += c;
  for (let nl = buf.indexOf("\\n"); nl >= 0; nl = buf.indexOf("\\n")) {
    const m = JSON.parse(buf.slice(0, nl));
    buf = buf.slice(nl + 1);
    if (m.method !== "ping") continue;
    let out = "";
    for (const s of sends) out += JSON.stringify(s) + "\\n";
    process.stdout.write(out + JSON.stringify({ jsonrpc: "2.0", id: m.id, result: {} }) + "\\n");
  }
});
process.stdin.on("end", () => process.exit(0));
`;

const overStdio: Exchange = async (sends) => {
  const input = new PassThrough();
  const output = new PassThrough();
  const lines = new JsonLines(output);
  const warnings: string[] = [];
  const done = runStdioGate({
    policy,
    command: process.execPath,
    args: ["-e", STDIO_SERVER, JSON.stringify(sends)],
    input,
    output,
    warn: (l) => warnings.push(l),
    timers: { graceMs: 200, drainMs: 200 },
  });
  try {
    input.write(`${JSON.stringify(PING)}\n`);
    await lines.reply("go");
    // Nothing but the ping's answer after what the server sent before it.
    return lines.all.slice(
      0,
      lines.all.findIndex((m) => (m as { id?: unknown }).id === "go"),
    );
  } finally {
    input.end();
    assert.equal(await within(5000, "the stdio gate to end", done), 0, warnings.join("\n"));
  }
};

/**
 * The proxy in front of an upstream that answers the ping's POST with `sends`, then the ping's
 * answer, as SSE events; or with the first of `sends` alone as one JSON body.
 */
async function overHttp(sends: unknown[], mode: "sse" | "json"): Promise<unknown[]> {
  const upstream = http.createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      if (mode === "json") {
        // One JSON body per POST: the answer is the first message sent.
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(sends[0]));
        return;
      }
      const events = [...sends, { jsonrpc: "2.0", id: "go", result: {} }];
      res
        .writeHead(200, { "content-type": "text/event-stream" })
        .end(events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join(""));
    });
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", r));
  const port = (upstream.address() as AddressInfo).port;
  const warnings: string[] = [];
  const proxy = await startHttpProxy({
    policy,
    upstream: `http://127.0.0.1:${port}/mcp`,
    warn: (l) => warnings.push(l),
  });
  try {
    const res = await within(
      10_000,
      "the proxy to answer",
      fetch(proxy.url, {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json, text/event-stream" },
        body: JSON.stringify(PING),
      }),
    );
    const text = await res.text();
    if (mode === "json") {
      // Nothing goes on: an empty 202, never a body holding `[]`.
      if (res.status === 202) {
        assert.equal(text, "");
        return [];
      }
      assert.equal(res.status, 200);
      return [JSON.parse(text)];
    }
    const messages = text
      .split("\n\n")
      .filter((e) => e.startsWith("data: "))
      .map((e) => JSON.parse(e.slice("data: ".length)) as unknown);
    assert.deepEqual(messages.at(-1), { jsonrpc: "2.0", id: "go", result: {} }, "the ping is answered last");
    return messages.slice(0, -1);
  } finally {
    assert.deepEqual(
      warnings.filter((w) => /internal error/.test(w)),
      [],
    );
    await proxy.close();
    await new Promise((r) => upstream.close(r));
  }
}

const inProcess: Exchange = async (sends) => {
  const [inner, server] = InMemoryTransport.createLinkedPair();
  server.onmessage = (m) => {
    if ((m as { method?: string }).method !== "ping") return;
    for (const s of sends) void server.send(s as JSONRPCMessage);
    void server.send({ jsonrpc: "2.0", id: (m as { id: string }).id, result: {} });
  };
  await server.start();
  const gated = createGate({ policy }).wrap(inner);
  const seen: unknown[] = [];
  let answered!: () => void;
  const answer = new Promise<void>((r) => {
    answered = r;
  });
  gated.onmessage = (m) => {
    if ((m as { id?: unknown }).id === "go") answered();
    else seen.push(m);
  };
  await gated.start();
  try {
    await gated.send(PING as JSONRPCMessage);
    await within(5000, "the ping's answer", answer);
    return seen;
  } finally {
    await gated.close();
  }
};

const TRANSPORTS: Array<[string, Exchange]> = [
  ["stdio (runStdioGate)", overStdio],
  ["Streamable HTTP, SSE answer (http-proxy)", (sends) => overHttp(sends, "sse")],
  ["in-process (createGate / GatedTransport)", inProcess],
];

describe("every transport drives the gate the same way: server batches", { timeout: 60_000 }, () => {
  for (const c of CASES) {
    for (const [transport, exchange] of TRANSPORTS) {
      test(`${c.name}: ${transport}`, async () => {
        assert.deepEqual(await exchange(c.sends), c.expected);
      });
    }
    // A batch as a whole JSON answer (no ping answer follows it: the body is the answer).
    test(`${c.name}: Streamable HTTP, JSON answer (http-proxy)`, async () => {
      assert.deepEqual(await overHttp(c.sends, "json"), c.expected);
    });
  }
});
