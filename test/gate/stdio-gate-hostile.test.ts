// Over ~400 lines on purpose: the stdio gate against hostile clients and servers, one table of attacks.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { describe, type TestContext, test } from "node:test";
import { MemoryDecisionLog } from "../../src/gate/decision-log.js";
import { MAX_MESSAGE_DEPTH } from "../../src/gate/message-shape.js";
import { runStdioGate } from "../../src/gate/stdio-gate.js";
import { MAX_UNREAD_ANSWER_BYTES } from "../../src/gate/stdio-pipes.js";
import { policyFromYaml } from "../policy/helpers.js";
import {
  decisions,
  JsonLines,
  openPolicy,
  readLog,
  startGate,
  tempDir,
  waitFor,
  within,
  workspacePolicy,
} from "./helpers.js";

// Inputs found by adversarial review: each once let something through or lost a whole read.

const open = openPolicy();

const rpc = (id: unknown, method: string, params?: unknown) =>
  `${JSON.stringify({ jsonrpc: "2.0", id, method, ...(params === undefined ? {} : { params }) })}\n`;

describe("runStdioGate against hostile input", () => {
  test("keys that differ only in case never reach a server that matches keys ignoring case", async (t) => {
    const g = await startGate(t, { policy: open });
    // Go's encoding/json reads `Method`, `methoD`, `paramſ` (long s) and `PATH` as `method`,
    // `params` and `path`, the last one winning.
    g.send('{"jsonrpc":"2.0","id":"k1","method":"ping","Method":"tools/call","params":{"name":"exec"}}\n');
    g.send(
      '{"jsonrpc":"2.0","id":"k2","method":"tools/call","params":{"name":"read_file","arguments":{}},"paramſ":{"name":"exec"}}\n',
    );
    g.send(rpc("k3", "tools/call", { name: "read_file", Name: "exec", arguments: {} }));
    g.send(
      rpc("k4", "tools/call", {
        name: "read_file",
        arguments: { path: "/workspace/a", PATH: "/etc/shadow" },
      }),
    );
    g.send(rpc("k5", "tools/call", { name: "read_file", arguments: { opts: [{ mode: "r", MODE: "w" }] } }));
    // camelCase keys are not ambiguous: this one goes on.
    g.send(
      rpc("ok", "tools/call", { name: "read_file", arguments: { filePath: "/workspace/a", maxBytes: 1 } }),
    );
    await g.sync();
    for (const id of ["k1", "k2"])
      assert.equal(((await g.replies.reply(id)) as { error: { code: number } }).error.code, -32600, id);
    for (const id of ["k3", "k4", "k5"])
      assert.equal(
        ((await g.replies.reply(id)) as { result: { isError: boolean } }).result.isError,
        true,
        id,
      );
    assert.ok(!("error" in (await g.replies.reply("ok"))));
    const got = g.received();
    assert.ok(!got.includes("exec") && !got.includes("shadow") && !got.includes('"w"'), got);
    assert.ok(got.includes("maxBytes"));
    assert.deepEqual(
      decisions(g.logPath).map((d) => [d.data.request_id, d.data.outcome, d.data.reason_code]),
      [
        ["k3", "denied", "call_invalid"],
        ["k4", "denied", "call_invalid"],
        ["k5", "denied", "call_invalid"],
        ["ok", "forwarded", "default_allow"],
      ],
    );
  });

  test("a number JSON cannot carry on (1e400) is denied, not decided as Infinity and sent as null", async (t) => {
    const g = await startGate(t, { policy: open });
    g.send(
      '{"jsonrpc":"2.0","id":"big","method":"tools/call","params":{"name":"read_file","arguments":{"n":[1,-1e400]}}}\n',
    );
    assert.equal(((await g.replies.reply("big")) as { result: { isError: boolean } }).result.isError, true);
    assert.ok(!g.received().includes('"big"'));
    assert.deepEqual(
      decisions(g.logPath).map((d) => [d.data.outcome, d.data.reason_code, d.data.violations[0]?.path]),
      [["denied", "call_invalid", "/arguments/n/1"]],
    );
  });

  test("a message too deeply nested to re-encode is refused alone; the call read with it still goes on", async (t) => {
    const g = await startGate(t, { policy: workspacePolicy() });
    const deep = `${"[".repeat(20_000)}${"]".repeat(20_000)}`;
    const call = rpc(3, "tools/call", { name: "read_file", arguments: { path: "/workspace/a" } });
    g.send(`{"jsonrpc":"2.0","id":2,"method":"ping","params":{"x":${deep}}}\n${call}`);
    assert.equal(((await g.replies.reply(2)) as { error: { code: number } }).error.code, -32600);
    assert.ok(!("error" in (await g.replies.reply(3))), "the call in the same read was answered");
    assert.ok(g.received().includes('"id":3'), "and reached the server");
    assert.ok(!g.received().includes('"id":2'));
    assert.deepEqual(
      decisions(g.logPath).map((d) => [d.data.request_id, d.data.outcome]),
      [[3, "forwarded"]],
    );
  });

  test("numbers reach the server as the client wrote them (1.0, 1e2, -0; 2^53 + 1 outside the arguments), not as doubles re-encoded", async (t) => {
    const g = await startGate(t, { policy: open });
    const args = '{"f":1.0,"e":1e2,"neg":-0,"small":7,"x":0.1,"two53":9007199254740992}';
    const meta = '{"progressToken":9007199254740993,"u64":18446744073709551615}';
    const sent = `{"jsonrpc":"2.0","id":"n1","method":"tools/call","params":{"name":"read_file","arguments":${args},"_meta":${meta}}}`;
    g.send(`${sent}\n`);
    assert.ok(!("error" in (await g.replies.reply("n1"))));
    const [line] = g.receivedLines();
    assert.equal(line, sent);
    // What the gate decided and forwarded is still its own encoding: a duplicate key collapses
    // as JSON.parse reads it, with the number it keeps written as sent.
    g.send(
      '{"jsonrpc":"2.0","id":"n2","method":"tools/call","params":{"name":"exec","name":"read_file","arguments":{"a":1.50}}}\n',
    );
    await g.replies.reply("n2");
    assert.equal(
      g.receivedLines()[1],
      '{"jsonrpc":"2.0","id":"n2","method":"tools/call","params":{"name":"read_file","arguments":{"a":1.50}}}',
    );
  });

  test("an id the gate cannot keep exactly is refused, answered with the digits the client sent, never forwarded", async (t) => {
    const g = await startGate(t, { policy: open });
    const call = (id: string) =>
      `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"read_file","arguments":{}}}\n`;
    // Both read as the double 9007199254740992: kept apart only by refusing the one that is not exact.
    g.send(call("9007199254740993"));
    g.send(call("9007199254740992"));
    g.send(call("1.0"));
    await g.sync();
    const refused = g.replies.raw.filter((l) => l.includes('"error"'));
    assert.equal(refused.length, 2, g.replies.raw.join("\n"));
    assert.match(refused[0] as string, /^\{"jsonrpc":"2\.0","id":9007199254740993,"error":\{"code":-32600,/);
    assert.match(refused[1] as string, /^\{"jsonrpc":"2\.0","id":1\.0,"error":\{"code":-32600,/);
    assert.ok(g.replies.raw.some((l) => l.startsWith('{"jsonrpc":"2.0","id":9007199254740992,"result"')));
    const got = g.receivedLines().filter((l) => l.includes("tools/call"));
    assert.deepEqual(got, [call("9007199254740992").trim()]);
    const rejected = readLog(g.logPath).filter((e) => e.type === "assay.gate.frame_rejected");
    assert.deepEqual(
      rejected.map((e) => [
        (e.data as { request_id: unknown }).request_id,
        (e.data as { reason: string }).reason,
      ]),
      [
        [null, "invalid_message"],
        [null, "invalid_message"],
      ],
    );
    assert.match(
      String((rejected[0]?.data as { message?: string } | undefined)?.message),
      /`9007199254740993`/,
    );
  });

  test("an argument number a double cannot hold is call_invalid; respellings of the same value go on as written", async (t) => {
    const g = await startGate(t, { policy: open });
    const call = (id: string, args: string) =>
      `{"jsonrpc":"2.0","id":"${id}","method":"tools/call","params":{"name":"read_file","arguments":${args}}}\n`;
    // Two ids the policy could not tell apart (both read as 1234567890123456768), a float with
    // digits a double drops, a number out of range: each would be recorded as another value than ran.
    g.send(call("l1", '{"account":1234567890123456700}'));
    g.send(call("l2", '{"n":[0.30000000000000000001]}'));
    g.send(call("l3", '{"n":1e-400}'));
    g.send(call("ok", '{"a":1.0,"b":1e3,"c":-0,"d":2.50,"e":1e21}'));
    for (const id of ["l1", "l2", "l3"])
      assert.equal(
        ((await g.replies.reply(id)) as { result: { isError: boolean } }).result.isError,
        true,
        id,
      );
    assert.ok(!("error" in (await g.replies.reply("ok"))));
    assert.deepEqual(
      decisions(g.logPath).map((d) => [
        d.data.request_id,
        d.data.reason_code,
        d.data.violations[0]?.path ?? null,
      ]),
      [
        ["l1", "call_invalid", "/arguments/account"],
        ["l2", "call_invalid", "/arguments/n/0"],
        ["l3", "call_invalid", "/arguments/n"],
        ["ok", "default_allow", null],
      ],
    );
    assert.deepEqual(g.receivedLines(), [call("ok", '{"a":1.0,"b":1e3,"c":-0,"d":2.50,"e":1e21}').trim()]);
  });

  test("gate-made answers to ids it cannot keep exactly carry the digits sent; a client's answer with such an id goes on", async (t) => {
    const g = await startGate(t, { policy: open });
    // Unparsable, and too deep: the id is read from the text.
    g.send('{"jsonrpc":"2.0","id":9007199254740993,"method":"ping",oops}\n');
    g.send(`{"jsonrpc":"2.0","id":-0,"method":"ping","params":${"[".repeat(600)}${"]".repeat(600)}}\n`);
    // An answer to a request of the server: not tracked by the gate, passed on as written.
    g.send('{"jsonrpc":"2.0","id":9007199254740993,"result":{"roots":[]}}\n');
    await g.sync();
    const answers = g.replies.raw.filter((l) => l.includes('"error"'));
    assert.equal(answers.length, 2, g.replies.raw.join("\n"));
    assert.match(answers[0] as string, /^\{"jsonrpc":"2\.0","id":9007199254740993,"error":\{"code":-32700,/);
    assert.match(answers[1] as string, /^\{"jsonrpc":"2\.0","id":-0,"error":\{"code":-32600,/);
    assert.ok(g.receivedLines().includes('{"jsonrpc":"2.0","id":9007199254740993,"result":{"roots":[]}}'));
  });

  test("a tools/call nested too deep is refused before it is decided: not counted against limits, not recorded as decided", async (t) => {
    const limited = policyFromYaml(`
id: one-call
version: "1.0.0"
defaults: allow
rules:
  - id: one
    dimension: control
    severity: low
    limit: { max_calls: 1 }
`);
    const g = await startGate(t, { policy: limited });
    // 20,000 levels: JSON.parse reads it, JSON.stringify cannot write it; just past the limit is refused too.
    for (const levels of [20_000, MAX_MESSAGE_DEPTH]) {
      const deep = `${"[".repeat(levels)}${"]".repeat(levels)}`;
      g.send(
        `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"read_file","_meta":{"x":${deep}}}}\n`,
      );
    }
    g.send(rpc(2, "tools/call", { name: "read_file", arguments: {} }));
    assert.ok(!("error" in (await g.replies.reply(2))), "the refused calls were not counted");
    const refusals = g.replies.all.filter((m) => (m as { id?: unknown }).id === 1);
    assert.deepEqual(
      refusals.map((m) => (m as { error: { code: number } }).error.code),
      [-32600, -32600],
    );
    assert.deepEqual(
      readLog(g.logPath).map((e) => [e.type, (e.data as { request_id?: unknown }).request_id]),
      [
        ["assay.gate.started", undefined],
        ["assay.gate.frame_rejected", 1],
        ["assay.gate.frame_rejected", 1],
        ["assay.tool.decision", 2],
      ],
    );
    assert.ok(!g.received().includes('"id":1,'));
  });

  test("with --log-arguments, params that are not an object do not take the rest of the read with them", async (t) => {
    const g = await startGate(t, { policy: workspacePolicy(), logArguments: true });
    g.send(`${rpc(1, "ping")}${rpc(2, "tools/call", "x")}`);
    assert.ok("result" in (await g.replies.reply(1)));
    assert.equal(((await g.replies.reply(2)) as { result: { isError: boolean } }).result.isError, true);
    assert.ok(g.received().includes('"method":"ping"'));
    assert.deepEqual(
      decisions(g.logPath).map((d) => [d.data.request_id, d.data.outcome, d.data.reason_code]),
      [[2, "denied", "call_invalid"]],
    );
  });
});

/** `runStdioGate` in front of `node server`, stopped when the test ends (its output then drained). */
function gateAround(t: TestContext, server: string): { input: PassThrough; output: PassThrough } {
  const input = new PassThrough();
  const output = new PassThrough();
  const done = runStdioGate({
    policy: workspacePolicy(),
    sink: new MemoryDecisionLog(),
    command: process.execPath,
    args: [server],
    input,
    output,
    warn: () => {},
  });
  t.after(() => {
    input.end();
    output.resume();
    return within(8000, "the gate to stop", done).catch(() => {});
  });
  return { input, output };
}

/** A server script written to a temp dir (removed when the test ends); its path. */
async function scriptedServer(t: TestContext, body: string): Promise<string> {
  const dir = await tempDir(t);
  const path = join(dir, "server.mjs");
  writeFileSync(path, body);
  return path;
}

describe("runStdioGate against a hostile server", () => {
  test("a tool list hidden behind a carriage return reaches the client re-encoded, and filtered", async (t) => {
    const server = await scriptedServer(
      t,
      `import { createInterface } from "node:readline";
const out = (s) => process.stdout.write(s + "\\n");
createInterface({ input: process.stdin, crlfDelay: Infinity }).on("line", (l) => {
  const m = JSON.parse(l);
  if (m.method !== "tools/list") return;
  // JSON allows a raw CR between tokens: one message to the gate, two lines to a CR-splitting client.
  out('{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":\\r{"jsonrpc":"2.0","id":' + m.id + ',"result":{"tools":[{"name":"exec","inputSchema":{"type":"object"}}]}}\\r}}');
  out(JSON.stringify({ jsonrpc: "2.0", id: m.id, result: { tools: [{ name: "exec", inputSchema: { type: "object" } }, { name: "read_file", inputSchema: { type: "object" } }] } }));
});
`,
    );
    const { input, output } = gateAround(t, server);
    const replies = new JsonLines(output);
    input.write(rpc(1, "tools/list"));
    const list = (await replies.reply(1)) as { result: { tools: Array<{ name: string }> } };
    assert.deepEqual(
      list.result.tools.map((x) => x.name),
      ["read_file"],
    );
    assert.ok(
      replies.raw.every((l) => !l.includes("\r")),
      "no line the client reads holds a carriage return",
    );
  });

  test("a tool list the gate changes keeps the server's numbers as written; names no call can carry are hidden", async (t) => {
    const long = "t".repeat(257);
    const server = await scriptedServer(
      t,
      `
process.stdin.on("data", (d) => {
  for (const line of d.toString().split("\\n").filter(Boolean)) {
    const m = JSON.parse(line);
    if (m.method !== "tools/list") continue;
    process.stdout.write('{"jsonrpc":"2.0","id":' + JSON.stringify(m.id) + ',"result":{"tools":[' +
      '{"name":"read_file","inputSchema":{"type":"object","properties":{"n":{"type":"number","maximum":1.0,"minimum":-0,"multipleOf":1e-3,"default":9007199254740993}}}},' +
      '{"name":"exec","inputSchema":{"type":"object"}},' +
      '{"name":"","inputSchema":{"type":"object"}},' +
      '{"name":"${long}","inputSchema":{"type":"object"}}' +
      ']}}\\n');
  }
});`,
    );
    const { input, output } = gateAround(t, server);
    const lines = new JsonLines(output);
    input.write(`${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" })}\n`);
    await lines.reply(1);
    assert.equal(
      lines.raw[0],
      '{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"read_file","inputSchema":{"type":"object","properties":{"n":{"type":"number","maximum":1.0,"minimum":-0,"multipleOf":1e-3,"default":9007199254740993}}}}]}}',
    );
  });

  test("a client that stops reading stops the gate reading the server (bounded memory)", async (t) => {
    const dir = await tempDir(t);
    const progress = join(dir, "progress");
    writeFileSync(progress, "");
    const server = await scriptedServer(
      t,
      `import { appendFileSync, writeSync } from "node:fs";
const line = JSON.stringify({ jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: "x".repeat(1 << 20) } }) + "\\n";
const buf = Buffer.from(line);
// Blocking writes to the pipe: the server only gets ahead as far as the gate reads.
for (let i = 0; i < 64; i++) {
  let off = 0;
  while (off < buf.length) {
    try { off += writeSync(1, buf, off); } catch (e) { if (e.code !== "EAGAIN") throw e; }
  }
  appendFileSync(${JSON.stringify(progress)}, "x");
}
setInterval(() => {}, 1000);
`,
    );
    const { output } = gateAround(t, server);
    // Nobody reads `output` for a while: the server must not get far ahead.
    await new Promise((r) => setTimeout(r, 1500));
    const sent = readFileSync(progress, "utf8").length;
    assert.ok(sent <= 8, `the server wrote ${sent} MiB while the client read nothing`);
    // Once the client reads again, everything arrives.
    let lines = 0;
    output.on("data", (c: Buffer) => {
      for (const b of c) if (b === 0x0a) lines++;
    });
    await waitFor(20_000, "all 64 notifications", () => lines >= 64);
    assert.equal(readFileSync(progress, "utf8").length, 64);
  });
});

describe("runStdioGate against a client that never reads", () => {
  test("a flood of denied calls stops the gate reading the client once its answers pile up (bounded memory)", async (t) => {
    const server = await scriptedServer(t, "process.stdin.resume();\n");
    const { input, output } = gateAround(t, server);
    // One read's worth of denied calls at a time; nobody reads `output` meanwhile.
    const calls = 24_000;
    const frame = (i: number) =>
      rpc(i, "tools/call", { name: "exec", arguments: { command: `rm -rf /${i}` } });
    const batch = 500;
    for (let i = 0; i < calls; i += batch) {
      let text = "";
      for (let j = i; j < i + batch; j++) text += frame(j);
      input.write(text);
    }
    const unread = () => output.writableLength + output.readableLength;
    // The gate answers until its unread answers pass the limit, then leaves the rest unread.
    await waitFor(20_000, "the gate to stop reading the client", async () => {
      const before = input.readableLength + input.writableLength;
      await new Promise((r) => setTimeout(r, 200));
      return before > 0 && input.readableLength + input.writableLength === before;
    });
    assert.ok(unread() >= MAX_UNREAD_ANSWER_BYTES, `the gate held back early: ${unread()} bytes unread`);
    assert.ok(
      unread() < MAX_UNREAD_ANSWER_BYTES + 1024 * 1024,
      `${unread()} bytes of answers buffered for a client that reads nothing`,
    );
    // Once the client reads, every call gets its answer, in order.
    const replies = new JsonLines(output);
    await waitFor(60_000, "every denied call answered", () => replies.raw.length >= calls);
    const ids = replies.raw.map((l) => (JSON.parse(l) as { id: number }).id);
    assert.deepEqual(ids.slice(0, 3), [0, 1, 2]);
    assert.equal(ids.at(-1), calls - 1);
    assert.equal(input.readableLength, 0);
  });
});
