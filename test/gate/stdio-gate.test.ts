// Over ~400 lines on purpose: runStdioGate in process: framing, ordering, back-pressure and shutdown, one suite.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, type TestContext, test } from "node:test";
import { type DecisionSink, FileDecisionLog } from "../../src/gate/decision-log.js";
import { runStdioGate } from "../../src/gate/stdio-gate.js";
import type { FrameRejectedEvent } from "../../src/records/decision-event.js";
import {
  decisions,
  openPolicy,
  pidAlive,
  readLog,
  startGate,
  waitFor,
  within,
  workspacePolicy,
} from "./helpers.js";

const policy = workspacePolicy();

const open = openPolicy();

const rpc = (id: unknown, method: string, params?: unknown) =>
  `${JSON.stringify({ jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) })}\n`;
const toolCall = (id: unknown, name: unknown, args?: unknown) =>
  rpc(id, "tools/call", { name, ...(args === undefined ? {} : { arguments: args }) });

const rejected = (logPath: string) =>
  readLog(logPath).filter((e): e is FrameRejectedEvent => e.type === "assay.gate.frame_rejected");

/**
 * runStdioGate (open policy) in front of a server given as a `node -e` script, the client side in
 * memory. The client side is ended when the test ends, so a failed test does not leave the gate
 * and its server running (and the test file hanging).
 */
function gateInFrontOf(t: TestContext, script: string, warn: (line: string) => void = () => {}) {
  const input = new PassThrough();
  const output = new PassThrough();
  const done = runStdioGate({
    policy: open,
    command: process.execPath,
    args: ["-e", script],
    input,
    output,
    warn,
    timers: { graceMs: 100, drainMs: 100 },
  });
  t.after(async () => {
    input.end();
    await within(5000, "the gate to stop", done).catch(() => {});
  });
  return { input, output, done };
}

describe("runStdioGate with a recording server", () => {
  test("allowed calls reach the server as decided; denied and malformed ones never do", async (t) => {
    const g = await startGate(t, { policy });
    g.send(
      rpc(0, "initialize", {
        protocolVersion: "2025-06-18",
        capabilities: {},
        clientInfo: { name: "t", version: "1" },
      }),
    );
    g.send('{"jsonrpc":"2.0","method":"notifications/initialized"}\n');
    g.send(rpc(1, "tools/list"));
    const list = (await g.replies.reply(1)) as { result: { tools: Array<{ name: string }> } };
    assert.deepEqual(
      list.result.tools.map((t) => t.name),
      ["read_file", "list_dir"],
      "tools the policy denies outright are not listed",
    );
    // Odd but valid spacing and key order: forwarded as parsed and decided (same keys, same order).
    const allowed =
      '{ "params" : {"arguments":{"path":"/workspace/a.txt"},"name":"read_file"}, "id":2, "method":"tools/call", "jsonrpc":"2.0" }';
    g.send(`${allowed}\r\n`);
    g.send(toolCall(3, "exec", { cmd: "rm -rf /" }));
    g.send(toolCall(4, "write_file", { path: "/workspace/a.txt" }));
    g.send(toolCall(5, "read_file", { path: "/etc/passwd" }));
    g.send(toolCall(6, "read_file", { path: "/workspace/../etc/passwd" }));
    g.send(rpc(7, "tools/call", "read_file"));
    g.send(rpc(8, "tools/call", { name: 42, arguments: { path: "/workspace/a" } }));
    g.send(rpc(9, "tools/call", { name: "read_file", arguments: ["/workspace/a"] }));
    g.send(rpc(10, "tools/call", ["read_file", { path: "/workspace/a" }]));
    g.send(rpc(11, "tools/call"));
    // Duplicate keys: the policy sees the last `name`; so must the server, whatever its parser keeps.
    const duplicate =
      '{"jsonrpc":"2.0","id":12,"method":"tools/call","params":{"name":"exec","name":"read_file","arguments":{"path":"/workspace/a.txt"}}}';
    g.send(`${duplicate}\n`);
    await g.sync();

    const ran = (await g.replies.reply(2)) as { result: { content: Array<{ text: string }> } };
    assert.equal(ran.result.content[0]?.text, "ran read_file");
    for (const id of [3, 4, 5, 6, 7, 8, 9, 10, 11]) {
      const r = (await g.replies.reply(id)) as { result?: { isError?: boolean }; error?: unknown };
      assert.equal(r.result?.isError, true, `call ${id} is answered by the gate as a denied tool result`);
    }
    const calls = g.receivedLines().filter((l) => l.includes("tools/call"));
    assert.deepEqual(
      calls,
      [JSON.stringify(JSON.parse(allowed)), JSON.stringify(JSON.parse(duplicate))],
      "only the allowed calls reached the server, each exactly as the policy saw it",
    );
    assert.ok(!calls[1]?.includes("exec"), "the duplicate key the policy did not see is gone");
    const ds = decisions(g.logPath);
    assert.deepEqual(
      ds.map((d) => [d.data.request_id, d.data.outcome]),
      [[2, "forwarded"], ...[3, 4, 5, 6, 7, 8, 9, 10, 11].map((id) => [id, "denied"]), [12, "forwarded"]],
      "exactly one record per tools/call",
    );
    assert.deepEqual(
      ds.slice(5).map((d) => d.data.reason_code),
      ["call_invalid", "call_invalid", "call_invalid", "call_invalid", "call_invalid", "allowed"],
    );
  });

  test("each record is complete before its call is forwarded", async (t) => {
    const seenByServerAtRecord: boolean[] = [];
    let inner: FileDecisionLog | undefined;
    let received = () => "";
    const slow: DecisionSink = {
      append: async (e) => {
        if (e.type === "assay.gate.started") return inner?.append(e);
        const marker = `"id":"mark-${String((e.data as { request_id: unknown }).request_id)}"`;
        seenByServerAtRecord.push(received().includes(marker));
        await new Promise((r) => setTimeout(r, 40));
        await inner?.append(e);
      },
      close: async () => inner?.close(),
    };
    const g = await startGate(t, { policy, sink: slow });
    inner = await FileDecisionLog.open(g.logPath);
    received = g.received;
    for (const id of ["mark-1", "mark-2"]) g.send(toolCall(id, "read_file", { path: "/workspace/x" }));
    await g.sync();
    assert.deepEqual(seenByServerAtRecord, [false, false], "no call reached the server before its record");
    assert.equal(g.receivedLines().filter((l) => l.includes("mark-")).length, 2);
    assert.equal(decisions(g.logPath).length, 2);
  });

  test("a call whose record cannot be written is refused with -32603 and not forwarded", async (t) => {
    const failing: DecisionSink = {
      append: async () => {
        throw new Error("no space left on device");
      },
      close: async () => {},
    };
    const g = await startGate(t, { policy, sink: failing });
    g.send(toolCall(1, "read_file", { path: "/workspace/x" }));
    await g.sync();
    const r = (await g.replies.reply(1)) as { error: { code: number; message: string } };
    assert.equal(r.error.code, -32603);
    assert.match(r.error.message, /no space left/);
    assert.ok(!g.received().includes("tools/call"));
    // The operator's side: the gate's stderr says so, not only the client's answer.
    assert.ok(
      g.warnings.includes(
        "refused a tools/call: the decision could not be recorded: no space left on device",
      ),
      g.warnings.join("\n"),
    );
  });

  test("unparsable frames: an error to their id when it can be read, a record, never forwarded", async (t) => {
    const g = await startGate(t, { policy: open });
    g.send('{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"read_file"\n');
    g.send('{"jsonrpc":"2.0","method":"tools/call","params":{"name":"read_file"}\n');
    g.send('{"jsonrpc":"2.0","id":01,"method":"tools/call","params":{"name":"read_file"}}\n');
    g.send("tools/call read_file\n");
    g.send('{"jsonrpc":"2.0","id":"s","method":"tools/call","params":{"name":"read_file",}}\n');
    g.send('\ufeff{"jsonrpc":"2.0","id":"bom","method":"tools/call","params":{"name":"read_file"}}\n');
    await g.sync();
    const r7 = (await g.replies.reply(7)) as { error: { code: number } };
    assert.equal(r7.error.code, -32700);
    assert.equal(((await g.replies.reply("s")) as { error: { code: number } }).error.code, -32700);
    const ids = g.replies.all.map((m) => (m as { id?: unknown }).id);
    assert.ok(!ids.includes(null), "no reply with a null id when the id is unknown");
    assert.ok(!ids.includes(1), "`01` is not read as id 1");
    assert.ok(!g.received().includes("tools/call"), "nothing unparsable reached the server");
    assert.deepEqual(
      rejected(g.logPath).map((e) => [e.data.reason, e.data.request_id]),
      [
        ["unparsable", 7],
        ["unparsable", null],
        ["unparsable", null],
        ["unparsable", null],
        ["unparsable", "s"],
        // A byte order mark is no JSON, but the id after it can still be read and answered.
        ["unparsable", "bom"],
      ],
    );
    assert.equal(decisions(g.logPath).length, 0);
  });

  test("a frame over the size limit is refused with its id when known, and the stream recovers", async (t) => {
    const g = await startGate(t, { policy: open, maxFrameBytes: 2048 });
    const big = "x".repeat(10_000);
    g.send(toolCall("big", "read_file", { path: big }));
    // An id after the first 64 KiB of an oversize frame is not looked for.
    const huge = "x".repeat(100_000);
    g.send(
      `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"read_file","arguments":{"p":"${huge}"}},"id":"late"}\n`,
    );
    // Within them it is.
    g.send(
      `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"read_file","arguments":{"p":"${big}"}},"id":"soon"}\n`,
    );
    // An oversize frame arriving in many small chunks, with its id first.
    const chunks = Buffer.from(toolCall(99, "read_file", { path: "y".repeat(50_000) }));
    for (let i = 0; i < chunks.length; i += 1000) g.send(chunks.subarray(i, i + 1000));
    g.send(toolCall("ok", "read_file", { path: "/workspace/a" }));
    await g.sync();
    const r = (await g.replies.reply("big")) as { error: { code: number; message: string } };
    assert.equal(r.error.code, -32600);
    assert.match(r.error.message, /2048/);
    assert.equal(((await g.replies.reply(99)) as { error: { code: number } }).error.code, -32600);
    assert.ok(!g.replies.all.some((m) => (m as { id?: unknown }).id === "late"));
    assert.equal(((await g.replies.reply("ok")) as { result: unknown }).result !== undefined, true);
    const calls = g.receivedLines().filter((l) => l.includes("tools/call"));
    assert.equal(calls.length, 1);
    assert.ok(calls[0]?.includes('"ok"'));
    const rs = rejected(g.logPath);
    assert.deepEqual(
      rs.map((e) => [e.data.reason, e.data.request_id]),
      [
        ["oversize", "big"],
        ["oversize", null],
        ["oversize", "soon"],
        ["oversize", 99],
      ],
    );
    assert.ok(rs.every((e) => e.data.bytes > 2048));
  });

  test("a frame that is not valid UTF-8 is refused (id answered when readable), never forwarded", async (t) => {
    const g = await startGate(t, { policy: open });
    const frame = Buffer.concat([
      Buffer.from(
        '{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"read_file","arguments":{"path":"/workspace/',
      ),
      Buffer.from([0xff, 0xfe]),
      Buffer.from('"}}}\n'),
    ]);
    g.send(frame);
    // A lone continuation byte in the method itself, no readable id.
    g.send(
      Buffer.concat([
        Buffer.from('{"method":"tools/ca'),
        Buffer.from([0x80]),
        Buffer.from('ll","jsonrpc":"2.0"}\n'),
      ]),
    );
    await g.sync();
    assert.equal(((await g.replies.reply(9)) as { error: { code: number } }).error.code, -32700);
    assert.ok(!g.received().includes("tools/"));
    assert.deepEqual(
      rejected(g.logPath).map((e) => [e.data.reason, e.data.request_id]),
      [
        ["undecodable", 9],
        ["undecodable", null],
      ],
    );
  });

  test("method-case tricks and id-less tool calls never reach a lenient server", async (t) => {
    const g = await startGate(t, { policy: open });
    const tricks = [
      "Tools/call",
      "TOOLS/CALL",
      "tools/call ",
      "tools/call\u0000",
      "ｔｏｏｌｓ/ｃａｌｌ",
      "\ttools/call",
    ];
    for (const [i, m] of tricks.entries()) g.send(rpc(`t${i}`, m, { name: "exec", arguments: {} }));
    g.send('{"jsonrpc":"2.0","method":"tools/call","params":{"name":"exec","arguments":{}}}\n');
    g.send('{"jsonrpc":"2.0","method":"Tools/Call","params":{"name":"exec","arguments":{}}}\n');
    // Escapes are the same method to every JSON parser: decided like any other call.
    g.send(
      '{"jsonrpc":"2.0","id":"esc","method":"tools\\/\\u0063all","params":{"name":"exec","arguments":{}}}\n',
    );
    await g.sync();
    for (const i of tricks.keys()) {
      assert.equal(((await g.replies.reply(`t${i}`)) as { error: { code: number } }).error.code, -32600);
    }
    const esc = (await g.replies.reply("esc")) as { result: { isError: boolean } };
    assert.equal(esc.result.isError, true);
    assert.ok(!g.received().includes("exec"), "the recording server never saw any of them");
    assert.equal(rejected(g.logPath).length, tricks.length + 2);
    assert.deepEqual(
      decisions(g.logPath).map((d) => [d.data.request_id, d.data.tool, d.data.outcome]),
      [["esc", "exec", "denied"]],
    );
  });

  test("a refused frame's reason is one escaped, bounded line on stderr (the record keeps it whole)", async (t) => {
    const g = await startGate(t, { policy: open });
    // Keys that fold to one another make the envelope ambiguous; the key is the client's text.
    const key = `\nassay mcp wrap: server exited (code 0)\n${"x".repeat(10_000)}`;
    g.send(
      `${JSON.stringify({ jsonrpc: "2.0", id: "k", method: "ping", [`A${key}`]: 1, [`a${key}`]: 2 })}\n`,
    );
    assert.equal(((await g.replies.reply("k")) as { error: { code: number } }).error.code, -32600);
    await g.sync();
    const refused = g.warnings.filter((w) => w.startsWith("refused"));
    assert.equal(refused.length, 1, g.warnings.join("\n"));
    const line = refused[0] as string;
    assert.ok(!/[\n\r]/.test(line), "no line break of the client's reaches the gate's stderr");
    assert.ok(line.includes("\\u000aassay mcp wrap: server exited"), "the newline is shown escaped");
    assert.ok(line.length < 500, `a ${line.length} character warning`);
    const record = rejected(g.logPath).at(-1);
    assert.ok(record?.data.message.includes(key), "the record keeps the whole reason");
  });

  test("batches: with a tool call refused whole (errors to each request); without, passed", async (t) => {
    const g = await startGate(t, { policy: open });
    const call = {
      jsonrpc: "2.0",
      id: "b2",
      method: "tools/call",
      params: { name: "read_file", arguments: {} },
    };
    g.send(`${JSON.stringify([{ jsonrpc: "2.0", id: "b1", method: "ping" }, call])}\n`);
    g.send(`${JSON.stringify([[call]])}\n`);
    g.send(
      `${JSON.stringify([
        { jsonrpc: "2.0", id: "b3", method: "ping" },
        { jsonrpc: "2.0", id: "b4", method: "ping" },
      ])}\n`,
    );
    await g.sync();
    for (const id of ["b1", "b2"]) {
      assert.equal(((await g.replies.reply(id)) as { error: { code: number } }).error.code, -32600);
    }
    // The recording server answers batch members one by one.
    await g.replies.reply("b3");
    await g.replies.reply("b4");
    assert.ok(!g.received().includes("tools/call"));
    assert.deepEqual(
      rejected(g.logPath).map((e) => e.data.reason),
      ["batch_with_tool_call", "invalid_message"],
    );
  });

  test("the server dies with calls pending: each gets -32002, the gate ends with the server's exit code", async (t) => {
    const g = await startGate(t, { policy: open });
    g.send(toolCall(1, "hang", {}));
    g.send(rpc(2, "resources/list"));
    await g.replies.reply(2);
    g.send(toolCall(3, "crash", { code: 7 }));
    const code = await within(5000, "the gate to end", g.done);
    assert.equal(code, 7);
    for (const id of [1, 3]) {
      const r = (await g.replies.reply(id, 1000)) as { error: { code: number; message: string } };
      assert.equal(r.error.code, -32002);
      assert.match(r.error.message, /code 7/);
    }
    assert.equal(
      g.replies.all.filter((m) => (m as { id?: unknown }).id === 2).length,
      1,
      "answered requests get no second answer",
    );
    assert.ok(g.warnings.some((w) => w.includes("code 7")));
  });

  test("the client goes away: the server is stopped (no orphan)", async (t) => {
    const g = await startGate(t, { policy: open });
    g.send(toolCall(1, "hang", {}));
    await g.sync();
    const pid = await g.serverPid();
    assert.ok(pidAlive(pid));
    g.input.end();
    assert.equal(await within(5000, "the gate to end", g.done), 0);
    await waitFor(3000, `server pid ${pid} to be gone`, () => !pidAlive(pid));
  });

  test("a server that ignores the end of its input is terminated after the grace period", async (t) => {
    const g = await startGate(t, { policy: open, mode: "stubborn" });
    await g.sync();
    const pid = await g.serverPid();
    const t0 = Date.now();
    g.input.end();
    assert.equal(await within(8000, "the gate to end", g.done), 0);
    assert.ok(Date.now() - t0 >= 1500, "it was given time to exit on its own");
    await waitFor(3000, `server pid ${pid} to be gone`, () => !pidAlive(pid));
  });

  test("the grace period is injectable: a server that ignores the end of its input is stopped after the one given", async (t) => {
    const g = await startGate(t, { policy: open, mode: "stubborn", timers: { graceMs: 100 } });
    await g.sync();
    const pid = await g.serverPid();
    const t0 = Date.now();
    g.input.end();
    assert.equal(await within(5000, "the gate to end", g.done), 0);
    const took = Date.now() - t0;
    assert.ok(took >= 80 && took < 1500, `stopped after ${took} ms, not the default 2 s`);
    await waitFor(3000, `server pid ${pid} to be gone`, () => !pidAlive(pid));
  });

  test("the drain period is injectable: a server whose child holds its output ends after the one given", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "assay-drain-"));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const pidFile = join(dir, "grandchild.pid");
    const input = new PassThrough();
    const t0 = Date.now();
    const done = runStdioGate({
      policy: open,
      command: "sh",
      // The shell exits at once; the sleep it started keeps the server's stdout open.
      args: ["-c", `sleep 300 & echo $! > ${pidFile}; exit 3`],
      input,
      output: new PassThrough(),
      warn: () => {},
      timers: { drainMs: 100 },
    });
    t.after(() => input.end());
    assert.equal(await within(5000, "the gate to end", done), 3, "the server's own exit code");
    const took = Date.now() - t0;
    assert.ok(took < 1000, `ended after ${took} ms, not after the default 1 s drain`);
    const grandchild = Number(readFileSync(pidFile, "utf8").trim());
    await waitFor(3000, `grandchild ${grandchild} to be gone`, () => !pidAlive(grandchild));
  });

  test("a chunk's lines go on as decided: the gate's encoding where it differs from the client's, never a skipped line", async (t) => {
    const g = await startGate(t, { policy: open });
    const compact = (id: number) =>
      JSON.stringify({
        jsonrpc: "2.0",
        id,
        method: "tools/call",
        params: { name: "read_file", arguments: { path: `/workspace/é${id}` } },
      });
    const spaced = '{ "jsonrpc": "2.0", "id": 3, "method": "ping" }';
    const escaped = '{"jsonrpc":"2.0","id":4,"method":"ping","params":{"s":"\\u00e9"}}';
    // One write each: lines whose text the gate's encoding keeps, mixed with lines it writes its
    // own way (spacing, an escape); with a blank line and a CRLF line; then only the first kind.
    g.send(`${compact(1)}\n${spaced}\n${compact(2)}\n${escaped}\n`);
    g.send(`${compact(5)}\n \n${compact(6)}\r\n`);
    g.send(`${compact(7)}\n${compact(8)}\n`);
    await g.sync();
    const lines = g.receivedLines().filter((l) => !l.includes('"sync:'));
    assert.deepEqual(lines, [
      compact(1),
      JSON.stringify(JSON.parse(spaced)),
      compact(2),
      JSON.stringify(JSON.parse(escaped)),
      compact(5),
      compact(6),
      compact(7),
      compact(8),
    ]);
    assert.ok(!g.received().includes("\r"), "no carriage return reaches the server");
  });

  test("a server chunk's lines reach the client as the gate read them: no mark, no CR, no blank line, UTF-8 intact", async (t) => {
    // Each request is answered in one write: a notification, then the answer. The first with a
    // CRLF and a blank line, the second with a byte-order mark before the notification.
    const server = `process.stdin.on("data", (d) => { for (const l of String(d).split("\\n")) { if (!l) continue;
      const id = JSON.parse(l).id; const note = JSON.stringify({ jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: "é" + id } });
      const a = JSON.stringify({ jsonrpc: "2.0", id, result: { text: "ü" } });
      process.stdout.write(id === 1 ? note + "\\r\\n\\n" + a + "\\n" : id === 2 ? "\\uFEFF" + note + "\\n" + a + "\\n" : note + "\\n" + a + "\\n"); } });`;
    const { input, output, done } = gateInFrontOf(t, server);
    const chunks: Buffer[] = [];
    output.on("data", (c: Buffer) => chunks.push(c));
    const text = () => Buffer.concat(chunks).toString("utf8");
    for (const id of [1, 2, 3]) {
      input.write(rpc(id, "ping"));
      await waitFor(5000, `answer ${id}`, () => text().includes(`"id":${id}`) || undefined);
    }
    input.end();
    await within(5000, "the gate to stop", done);
    const note = (id: number) =>
      JSON.stringify({
        jsonrpc: "2.0",
        method: "notifications/message",
        params: { level: "info", data: `é${id}` },
      });
    const answer = (id: number) => JSON.stringify({ jsonrpc: "2.0", id, result: { text: "ü" } });
    assert.equal(text(), [1, 2, 3].map((id) => `${note(id)}\n${answer(id)}\n`).join(""));
  });

  test("a server line with one byte-order mark is read (and passed on without it); with two it is dropped as not JSON", async (t) => {
    // Answers each request twice over: after two marks (dropped), then after one (passed on).
    const server = `process.stdin.on("data", (d) => { for (const l of String(d).split("\\n")) { if (!l) continue;
      const id = JSON.parse(l).id; const a = JSON.stringify({ jsonrpc: "2.0", id, result: {} });
      process.stdout.write("\\uFEFF\\uFEFF" + a + "\\n" + "\\uFEFF" + a + "\\n"); } });`;
    const warnings: string[] = [];
    const { input, output, done } = gateInFrontOf(t, server, (l) => warnings.push(l));
    let text = "";
    output.on("data", (c: Buffer) => {
      text += c.toString("utf8");
    });
    input.write(rpc(1, "ping"));
    await waitFor(5000, "the answer", () => text.includes("\n") || undefined);
    input.end();
    await within(5000, "the gate to stop", done);
    // Passed on without its mark, as the gate read it.
    assert.equal(text, `${JSON.stringify({ jsonrpc: "2.0", id: 1, result: {} })}\n`);
    assert.deepEqual(
      warnings.filter((w) => w.includes("not JSON")),
      ["dropped a frame from the server that is not JSON"],
    );
  });

  test("a server that cannot be started: exit 2 with a warning, no signal handlers left behind", async () => {
    const before = process.listenerCount("SIGINT");
    const warnings: string[] = [];
    const input = new PassThrough();
    const code = await within(
      5000,
      "the gate to give up",
      runStdioGate({
        policy,
        command: "/nonexistent/assay-test-server",
        args: [],
        input,
        output: new PassThrough(),
        warn: (l) => warnings.push(l),
      }),
    );
    input.end();
    assert.equal(code, 2);
    assert.ok(
      warnings.some((w) => w.includes("cannot start")),
      warnings.join("\n"),
    );
    assert.equal(process.listenerCount("SIGINT"), before);
  });
});
