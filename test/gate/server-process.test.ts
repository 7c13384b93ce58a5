import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { after, describe, test } from "node:test";
import { ServerProcess } from "../../src/gate/server-process.js";
import { runStdioGate } from "../../src/gate/stdio-gate.js";
import { pidAlive, RECORDING_SERVER, waitFor, within, workspacePolicy } from "./helpers.js";

const policy = workspacePolicy();
const dir = mkdtempSync(join(tmpdir(), "assay-server-process-"));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Run the gate over a server started `delayMs` earlier, as `assay mcp wrap` does while packs load. */
async function gateLater(server: ServerProcess, delayMs: number, input = new PassThrough()) {
  await new Promise((r) => setTimeout(r, delayMs));
  const output = new PassThrough();
  const seen = { out: "" };
  output.on("data", (c: Buffer) => {
    seen.out += c.toString();
  });
  const warnings: string[] = [];
  const done = runStdioGate({
    policy,
    command: server.command,
    args: server.args,
    server,
    input,
    output,
    warn: (l) => warnings.push(l),
  });
  return { done, input, output, seen, warnings };
}

describe("a server started before the gate is ready (ServerProcess)", () => {
  test("one that could not start: the gate, arriving later, still exits 2 and says why", async () => {
    const server = ServerProcess.start("/nonexistent/assay-early-server", []);
    const g = await gateLater(server, 300);
    g.input.end();
    assert.equal(await within(5000, "the gate to give up", g.done), 2);
    assert.ok(
      g.warnings.some((w) => w.includes("cannot start")),
      g.warnings.join("\n"),
    );
  });

  test("one that exited before the gate took it over: its exit code is the gate's", async () => {
    const server = ServerProcess.start(process.execPath, ["-e", "process.exit(3)"]);
    const g = await gateLater(server, 500);
    assert.equal(await within(5000, "the gate to end", g.done), 3);
  });

  test("one that wrote and exited before the gate took it over: its output still reaches the client, then its exit code", async () => {
    const note = { jsonrpc: "2.0", method: "notifications/message", params: { level: "info", data: "bye" } };
    const server = ServerProcess.start(process.execPath, [
      "-e",
      `process.stdout.write(${JSON.stringify(`${JSON.stringify(note)}\n`)}, () => process.exit(3))`,
    ]);
    const g = await gateLater(server, 500);
    assert.equal(await within(5000, "the gate to end", g.done), 3);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(JSON.parse(g.seen.out.trim()), note);
  });

  test("its output waits for the gate: nothing reaches the client, or the server, before the gate is ready", async () => {
    const record = join(dir, "early.bin");
    const server = ServerProcess.start(process.execPath, [RECORDING_SERVER, record]);
    const input = new PassThrough();
    // A denied call written while the policy is still loading: it must be decided, not passed on.
    input.write(
      `${JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "exec", arguments: {} } })}\n`,
    );
    const g = await gateLater(server, 300, input);
    await waitFor(5000, "the denied call's answer", () => g.seen.out.includes('"id":1'));
    assert.match(g.seen.out, /"isError":true/);
    assert.ok(
      !readFileSync(record, { encoding: "utf8", flag: "a+" }).includes('"exec"'),
      "the denied call never reached the server",
    );
    g.input.end();
    await within(10_000, "the gate to end", g.done);
  });

  test("abandon() stops a server the gate will never serve", async () => {
    const record = join(dir, "abandoned.bin");
    const server = ServerProcess.start(process.execPath, [RECORDING_SERVER, record]);
    await waitFor(10_000, "the server to start", () => {
      try {
        return readFileSync(`${record}.pid`, "utf8") !== "";
      } catch {
        return false;
      }
    });
    const pid = Number(readFileSync(`${record}.pid`, "utf8"));
    server.abandon();
    await waitFor(5000, "the server to stop", () => !pidAlive(pid));
  });
});
