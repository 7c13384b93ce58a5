// Over ~400 lines on purpose: `assay mcp proxy` end to end (sessions, SSE, bodies, headers), one suite over one upstream fixture.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import http from "node:http";
import { type AddressInfo, createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { MemoryDecisionLog } from "../../src/gate/decision-log.js";
import { DECISION_META_KEY } from "../../src/gate/deny-reply.js";
import { type HttpProxy, startHttpProxy } from "../../src/gate/http-proxy.js";
import { RPC } from "../../src/gate/jsonrpc.js";
import { compilePolicy } from "../../src/policy/compile.js";
import type { Decision } from "../../src/policy/decision.js";
import { packFromObject } from "../../src/policy/load-pack.js";
import type { AnyGateEvent, DecisionEvent, FrameRejectedEvent } from "../../src/records/decision-event.js";
import { pack, rule } from "../policy/helpers.js";
import { ASSAY_BIN } from "../run-assay.js";
import { EVERYTHING_SERVER, waitFor, within } from "./helpers.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

const policy = compilePolicy([
  packFromObject(
    pack(
      "http-proxy-test",
      [
        rule("allow-basics", { tools: { allow: ["echo", "get-sum", "trigger-long-running-operation"] } }),
        rule("no-secrets-echoed", {
          args: {
            tools: ["echo"],
            schema: { type: "object", properties: { message: { type: "string", pattern: "^[^$]*$" } } },
          },
        }),
        rule("sum-budget", { dimension: "control", limit: { per_tool: { "get-sum": 2 } } }),
      ],
      { defaults: "deny" },
    ),
  ),
]);

/** What the upstream received, recorded by the hop in front of it before anything is passed on. */
interface Seen {
  method: string;
  sid: string | undefined;
  body: string;
  /** The proxy closed this exchange before the upstream had finished answering. */
  closedEarly: boolean;
}

/**
 * A plain HTTP hop between the proxy and the real server that writes down every request it
 * passes on: the evidence of what reached the server (and what never did).
 */
async function startRecorder(target: URL) {
  const seen: Seen[] = [];
  const issued: string[] = [];
  const server = http.createServer((req, res) => {
    const sid = req.headers["mcp-session-id"];
    const entry: Seen = {
      method: req.method ?? "",
      sid: typeof sid === "string" ? sid : undefined,
      body: "",
      closedEarly: false,
    };
    seen.push(entry);
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      entry.body = Buffer.concat(chunks).toString("utf8");
      const up = http.request(
        new URL(req.url ?? "/", target),
        { method: req.method, headers: req.headers },
        (ur) => {
          const given = ur.headers["mcp-session-id"];
          if (typeof given === "string") issued.push(given);
          res.writeHead(ur.statusCode ?? 502, ur.headers);
          ur.pipe(res);
        },
      );
      res.on("close", () => {
        if (res.writableFinished) return;
        entry.closedEarly = true;
        up.destroy();
      });
      up.on("error", () => res.destroy());
      up.end(Buffer.concat(chunks));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    seen,
    issued,
    /** Bodies of the tools/call requests the server received, by tool name. */
    calls: (tool: string) => seen.filter((s) => toolCalled(s.body) === tool),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function toolCalled(body: string): string | undefined {
  try {
    const m = JSON.parse(body) as { method?: string; params?: { name?: string } };
    return m.method === "tools/call" ? m.params?.name : undefined;
  } catch {
    return undefined;
  }
}

async function freePort(): Promise<number> {
  const srv = createNetServer();
  await new Promise<void>((resolve) => srv.listen(0, "127.0.0.1", resolve));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** server-everything in Streamable HTTP mode (it reads its port from PORT and serves /mcp). */
async function startEverything(): Promise<{ url: URL; child: ChildProcess; stop(): Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, [EVERYTHING_SERVER, "streamableHttp"], {
    env: { ...process.env, PORT: String(port) },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let err = "";
  child.stdout?.resume();
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    await within(5000, "server-everything to exit", exited).catch(() => child.kill("SIGKILL"));
  };
  try {
    await waitFor(15_000, "server-everything to listen", () => err.includes(`listening on port ${port}`));
  } catch (e) {
    await stop();
    throw new Error(`${(e as Error).message}; stderr: ${err}`);
  }
  return { url: new URL(`http://127.0.0.1:${port}/mcp`), child, stop };
}

async function connect(url: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: "assay-http-proxy-test", version: "1.0.0" });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await within(10_000, "the client to initialize", client.connect(transport));
  return { client, transport };
}

/** POST raw bytes to the proxy, as a client with a broken encoder would. */
async function post(
  url: string,
  body: string | Buffer,
  sid?: string,
): Promise<{ status: number; json: unknown }> {
  const res = await within(
    10_000,
    "the proxy to answer a raw POST",
    fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        ...(sid === undefined ? {} : { "mcp-session-id": sid }),
      },
      body,
    }),
  );
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

const isDecision = (e: AnyGateEvent): e is DecisionEvent => e.type === "assay.tool.decision";
const isRejection = (e: AnyGateEvent): e is FrameRejectedEvent => e.type === "assay.gate.frame_rejected";

describe("assay mcp proxy (Streamable HTTP) in front of server-everything", { timeout: 120_000 }, () => {
  let everything: Awaited<ReturnType<typeof startEverything>>;
  let recorder: Awaited<ReturnType<typeof startRecorder>>;
  let proxy: HttpProxy;
  const log = new MemoryDecisionLog();
  const warnings: string[] = [];
  const clients: Client[] = [];

  before(async () => {
    everything = await startEverything();
    recorder = await startRecorder(everything.url);
    proxy = await startHttpProxy({
      policy,
      sink: log,
      upstream: recorder.url,
      warn: (l) => warnings.push(l),
    });
  });

  after(async () => {
    assert.deepEqual(
      warnings.filter((w) => /internal error|cannot relay/.test(w)),
      [],
      "the proxy met no internal error",
    );
    for (const c of clients) await within(5000, "a client to close", c.close()).catch(() => {});
    await proxy?.close();
    await recorder?.close();
    await everything?.stop();
  });

  async function session() {
    const s = await connect(proxy.url);
    clients.push(s.client);
    return s;
  }

  test("initialize and the session id pass through; the server's GET stream opens through the proxy", async () => {
    const { transport } = await session();
    assert.match(proxy.url, /^http:\/\/127\.0\.0\.1:\d+\/mcp$/);
    assert.ok(transport.sessionId, "the client got a session id");
    assert.ok(recorder.issued.includes(transport.sessionId), "the session id is the one the server issued");
    const init = recorder.seen.find((s) => s.body.includes('"initialize"'));
    assert.equal(init?.sid, undefined, "initialize carries no session id");
    await waitFor(5000, "the client's GET stream to reach the server", () =>
      recorder.seen.some((s) => s.method === "GET" && s.sid === transport.sessionId),
    );
  });

  test("tools/list is filtered to what the policy allows", async () => {
    const { client, transport } = await session();
    const listed = (await client.listTools()).tools.map((t) => t.name).sort();
    assert.deepEqual(listed, ["echo", "get-sum", "trigger-long-running-operation"]);
    // On the wire: the SSE event the gate rewrote keeps its `event:` and `id:` lines.
    const raw = await fetch(proxy.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-session-id": transport.sessionId as string,
        "mcp-protocol-version": "2025-06-18",
      },
      body: JSON.stringify({ jsonrpc: "2.0", id: "raw-list", method: "tools/list" }),
    });
    assert.equal(raw.headers.get("content-type"), "text/event-stream; charset=utf-8");
    const text = await within(5000, "the raw tools/list answer", raw.text());
    const m = /^event: message\nid: (\S+)\ndata: (.*)\n\n$/.exec(text);
    assert.ok(m, text.slice(0, 300));
    const listedRaw = JSON.parse(m[2] as string) as {
      id: string;
      result: { tools: Array<{ name: string }> };
    };
    assert.equal(listedRaw.id, "raw-list");
    assert.equal(listedRaw.result.tools.length, 3);
    // The server itself offers more: the filter is the gate's doing.
    const direct = await connect(everything.url.href);
    try {
      const all = (await direct.client.listTools()).tools.map((t) => t.name);
      assert.ok(all.includes("get-env") && all.includes("toggle-simulated-logging"), all.join(", "));
    } finally {
      await direct.client.close();
    }
  });

  test("an allowed call runs; denied ones are answered by the gate and never reach the server", async () => {
    const { client } = await session();
    const before = log.events.length;
    const echo = await client.callTool({ name: "echo", arguments: { message: "hello" } });
    assert.deepEqual(echo.content, [{ type: "text", text: "Echo: hello" }]);

    const hidden = await client.callTool({ name: "get-env", arguments: {} });
    assert.equal(hidden.isError, true);
    const d1 = (hidden._meta as Record<string, Decision>)[DECISION_META_KEY];
    assert.equal(d1?.reason_code, "tool_not_allowed");

    const byArgs = await client.callTool({ name: "echo", arguments: { message: "token $SECRET" } });
    assert.equal(byArgs.isError, true);
    const d2 = (byArgs._meta as Record<string, Decision>)[DECISION_META_KEY];
    assert.equal(d2?.rule_id, "no-secrets-echoed");

    // One more allowed call after the denied ones: anything forwarded before it has arrived.
    await client.callTool({ name: "echo", arguments: { message: "after" } });
    assert.equal(recorder.calls("get-env").length, 0, "get-env never reached the server");
    const echoed = recorder
      .calls("echo")
      .map((s) => (JSON.parse(s.body) as { params: { arguments: unknown } }).params.arguments);
    assert.ok(
      !echoed.some((a) => JSON.stringify(a).includes("$SECRET")),
      "the denied echo never reached the server",
    );
    assert.ok(echoed.some((a) => JSON.stringify(a).includes("hello")));

    // Exactly one record per tools/call, in order, written before the answer.
    const records = log.events.slice(before).filter(isDecision);
    assert.deepEqual(
      records.map((e) => [e.data.tool, e.data.outcome]),
      [
        ["echo", "forwarded"],
        ["get-env", "denied"],
        ["echo", "denied"],
        ["echo", "forwarded"],
      ],
    );
    assert.equal(new Set(records.map((e) => e.data.request_id)).size, 4);
  });

  test("a long-running tool streams its progress notifications through the proxy (SSE)", async () => {
    const { client } = await session();
    const progress: Array<{ progress: number; at: number }> = [];
    const result = await within(
      15_000,
      "the long-running operation",
      client.callTool(
        { name: "trigger-long-running-operation", arguments: { duration: 1.2, steps: 4 } },
        undefined,
        {
          onprogress: (p) => progress.push({ progress: p.progress, at: Date.now() }),
        },
      ),
    );
    const done = Date.now();
    assert.match(JSON.stringify(result.content), /Long running operation completed/);
    assert.deepEqual(
      progress.map((p) => p.progress),
      [1, 2, 3, 4],
    );
    // Streamed, not buffered until the end: the first step arrived long before the result.
    assert.ok(
      done - (progress[0]?.at ?? done) >= 500,
      `first progress ${done - (progress[0]?.at ?? done)} ms before the end`,
    );
  });

  test("limits are per MCP session: each session has its own gate", async () => {
    const a = await session();
    const b = await session();
    const sum = (c: Client) => c.callTool({ name: "get-sum", arguments: { a: 1, b: 2 } });
    assert.notEqual((await sum(a.client)).isError, true);
    assert.notEqual((await sum(a.client)).isError, true);
    const third = await sum(a.client);
    assert.equal(third.isError, true, "the third get-sum in session A is over its budget");
    assert.equal((third._meta as Record<string, Decision>)[DECISION_META_KEY]?.rule_id, "sum-budget");
    assert.notEqual((await sum(b.client)).isError, true, "session B has its own budget");
    assert.equal(recorder.calls("get-sum").length, 3);
  });

  test("malformed, invalid, undecodable and oversize bodies: 400, recorded, never forwarded", async () => {
    const { transport } = await session();
    const sid = transport.sessionId as string;
    const seenBefore = recorder.seen.length;
    const logBefore = log.events.length;

    const truncated = await post(
      proxy.url,
      '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo"',
      sid,
    );
    assert.equal(truncated.status, 400);
    assert.deepEqual(
      [(truncated.json as { id: unknown }).id, (truncated.json as { error: { code: number } }).error.code],
      [7, RPC.parseError],
    );

    const invalid = await post(
      proxy.url,
      JSON.stringify({ jsonrpc: "1.0", id: 8, method: "tools/call" }),
      sid,
    );
    assert.equal(invalid.status, 400);
    assert.deepEqual(
      [(invalid.json as { id: unknown }).id, (invalid.json as { error: { code: number } }).error.code],
      [8, RPC.invalidRequest],
    );

    const latin1 = Buffer.concat([
      Buffer.from('{"jsonrpc":"2.0","id":9,"method":"tools/call","x":"'),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}'),
    ]);
    assert.equal((await post(proxy.url, latin1, sid)).status, 400);

    const big = `{"jsonrpc":"2.0","id":10,"method":"tools/call","params":{"name":"echo","arguments":{"message":"${"x".repeat(4 * 1024 * 1024)}"}}}`;
    const oversize = await post(proxy.url, big, sid);
    assert.equal(oversize.status, 400);
    assert.equal((oversize.json as { id: unknown }).id, 10);

    // Without Content-Length (chunked), reading stops once the limit is passed.
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request(proxy.url, {
        method: "POST",
        headers: { "content-type": "application/json", "mcp-session-id": sid },
      });
      req.on("response", (res) => {
        let body = "";
        res.on("data", (d: Buffer) => {
          body += d.toString();
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on("error", reject);
      req.write(
        '{"jsonrpc":"2.0","id":11,"method":"tools/call","params":{"name":"echo","arguments":{"message":"',
      );
      const block = Buffer.alloc(64 * 1024, "y");
      let sent = 0;
      const more = () => {
        while (sent < 6 * 1024 * 1024) {
          sent += block.length;
          if (!req.write(block)) {
            req.once("drain", more);
            return;
          }
        }
        req.end('"}}}');
      };
      more();
    }).catch((err: Error) => ({ status: -1, body: err.message }));
    assert.equal(chunked.status, 400, chunked.body);
    assert.equal((JSON.parse(chunked.body) as { id: unknown }).id, 11);

    const rejected = log.events.slice(logBefore).filter(isRejection);
    assert.deepEqual(
      rejected.map((e) => [e.data.reason, e.data.request_id]),
      [
        ["unparsable", 7],
        ["invalid_message", 8],
        ["undecodable", 9],
        ["oversize", 10],
        ["oversize", 11],
      ],
    );
    assert.equal(log.events.slice(logBefore).filter(isDecision).length, 0, "no call was decided");
    assert.deepEqual(
      recorder.seen.slice(seenBefore).filter((s) => s.method !== "GET"),
      [],
      "nothing reached the server (the client's own GET stream aside)",
    );
  });

  test("a session the proxy did not see begin is 404; DELETE ends a session", async () => {
    const seenBefore = recorder.seen.length;
    const stranger = await post(
      proxy.url,
      JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }),
      "made-up",
    );
    assert.equal(stranger.status, 404);
    assert.equal(
      recorder.seen.slice(seenBefore).filter((s) => s.method !== "GET").length,
      0,
      "an unknown session is not forwarded",
    );

    const { transport } = await session();
    const sid = transport.sessionId as string;
    await within(5000, "the session to end", transport.terminateSession());
    assert.ok(recorder.seen.some((s) => s.method === "DELETE" && s.sid === sid));
    const after = await post(proxy.url, JSON.stringify({ jsonrpc: "2.0", id: 2, method: "tools/list" }), sid);
    assert.equal(after.status, 404);
  });

  test("a client that goes away aborts its upstream request", async () => {
    const { transport } = await session();
    const sid = transport.sessionId as string;
    const ac = new AbortController();
    const res = await fetch(proxy.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json, text/event-stream",
        "mcp-session-id": sid,
        "mcp-protocol-version": "2025-06-18",
      },
      body: JSON.stringify({
        jsonrpc: "2.0",
        id: "slow-1",
        method: "tools/call",
        params: {
          name: "trigger-long-running-operation",
          arguments: { duration: 20, steps: 20 },
          _meta: { progressToken: 1 },
        },
      }),
      signal: ac.signal,
    });
    assert.equal(res.status, 200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    const first = await within(5000, "the first progress event", reader.read());
    assert.match(Buffer.from(first.value ?? []).toString(), /notifications\/progress/);
    ac.abort();
    const slow = recorder.seen.find((s) => s.body.includes('"slow-1"'));
    await waitFor(5000, "the upstream exchange to be closed by the proxy", () => slow?.closedEarly === true);
  });

  test("a call whose record cannot be stored: -32603 to the client and a warning on the gate's side", async () => {
    const said: string[] = [];
    const full = await startHttpProxy({
      policy,
      sink: {
        append: async () => {
          throw new Error("ENOSPC: no space left on device");
        },
        close: async () => {},
      },
      upstream: `http://127.0.0.1:${await freePort()}/mcp`,
      warn: (l) => said.push(l),
    });
    try {
      const r = await post(
        full.url,
        JSON.stringify({
          jsonrpc: "2.0",
          id: 44,
          method: "tools/call",
          params: { name: "echo", arguments: { message: "x" } },
        }),
      );
      assert.equal(r.status, 200);
      assert.equal((r.json as { error: { code: number } }).error.code, -32603);
      assert.deepEqual(said, [
        "refused a tools/call: the decision could not be recorded: ENOSPC: no space left on device",
      ]);
    } finally {
      await full.close();
    }
  });

  test("an unreachable upstream: 502 with a JSON-RPC error for each request", async () => {
    const dead = await startHttpProxy({
      policy,
      upstream: `http://127.0.0.1:${await freePort()}/mcp`,
      warn: (l) => warnings.push(l),
    });
    try {
      const single = await post(
        dead.url,
        JSON.stringify({ jsonrpc: "2.0", id: 41, method: "initialize", params: {} }),
      );
      assert.equal(single.status, 502);
      assert.deepEqual(
        [(single.json as { id: unknown }).id, (single.json as { error: { code: number } }).error.code],
        [41, RPC.serverGone],
      );
      const batch = await post(
        dead.url,
        JSON.stringify([
          { jsonrpc: "2.0", id: 42, method: "ping" },
          { jsonrpc: "2.0", method: "notifications/initialized" },
          { jsonrpc: "2.0", id: 43, method: "ping" },
        ]),
      );
      assert.equal(batch.status, 502);
      assert.deepEqual(
        (batch.json as Array<{ id: unknown }>).map((r) => r.id),
        [42, 43],
      );
    } finally {
      await dead.close();
    }
  });

  test("listening is refused on an address that is not loopback unless allowed", async () => {
    await assert.rejects(
      startHttpProxy({ policy, upstream: "http://127.0.0.1:1/mcp", host: "0.0.0.0" }),
      (err: { code?: string }) => err.code === "usage",
    );
  });
});

describe("assay mcp proxy (the command)", { timeout: 60_000 }, () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, [ASSAY_BIN, "mcp", "proxy", ...args], {
      cwd: ROOT,
      encoding: "utf8",
      timeout: 30_000,
    });

  test("--help documents the command with an example; bad flags and packs exit 2", async () => {
    const help = cli(["--help"]);
    assert.equal(help.status, 0);
    assert.match(help.stdout, /Example:\n {2}assay mcp proxy --policy/);
    assert.match(help.stdout, /--allow-remote/);
    assert.match(help.stdout, /--max-connections <n>/);
    const dir = await mkdtemp(join(tmpdir(), "assay-proxy-"));
    try {
      const packPath = join(dir, "pack.yaml");
      await writeFile(packPath, "id: p\nversion: '1'\nrules: []\ndefaults: allow\n");
      const up = ["--upstream", "http://127.0.0.1:9/mcp"];
      assert.equal(cli(["-p", packPath, ...up]).status, 2, "--listen is required");
      assert.equal(cli(["-p", packPath, ...up, "--listen", "nope"]).status, 2);
      const remote = cli(["-p", packPath, ...up, "--listen", "0.0.0.0:0"]);
      assert.equal(remote.status, 2);
      assert.match(remote.stderr, /--allow-remote/);
      assert.equal(cli(["-p", join(dir, "missing.yaml"), ...up, "--listen", "127.0.0.1:0"]).status, 2);
      assert.equal(cli(["-p", packPath, "--upstream", "ftp://x/mcp", "--listen", "127.0.0.1:0"]).status, 2);
      for (const n of ["0", "1.5", "many"]) {
        const bad = cli(["-p", packPath, ...up, "--listen", "127.0.0.1:0", "--max-connections", n]);
        assert.equal(bad.status, 2, n);
        assert.match(bad.stderr, /--max-connections must be a positive integer/);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test("runs until SIGTERM, then closes and exits 0", async () => {
    const dir = await mkdtemp(join(tmpdir(), "assay-proxy-"));
    const packPath = join(dir, "pack.yaml");
    await writeFile(packPath, "id: p\nversion: '1'\nrules: []\ndefaults: allow\n");
    const child = spawn(
      process.execPath,
      [
        ASSAY_BIN,
        "mcp",
        "proxy",
        "-p",
        packPath,
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        "http://127.0.0.1:9/mcp",
      ],
      { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] },
    );
    let err = "";
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    try {
      const url = await waitFor(20_000, "the proxy to listen", () => /listening on (\S+),/.exec(err)?.[1]);
      const res = await post(url, JSON.stringify({ jsonrpc: "2.0", id: 1, method: "ping" }));
      assert.equal(res.status, 502, "the upstream (port 9) is not there");
      child.kill("SIGTERM");
      assert.equal(await within(10_000, "the proxy to exit", exited), 0, err);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await rm(dir, { recursive: true, force: true });
    }
  });
});
