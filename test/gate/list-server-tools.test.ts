import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { listServerTools } from "../../src/gate/list-server-tools.js";
import { AssayError } from "../../src/lib/errors.js";

const RECORDING_SERVER = fileURLToPath(new URL("../fixtures/gate/recording-server.mjs", import.meta.url));

/** A server that answers its first request (initialize) with a JSON-RPC error. */
const REFUSING_SERVER = `process.stdin.once("data", (d) => {
  const id = JSON.parse(String(d).split("\\n")[0]).id;
  process.stdout.write(JSON.stringify({ jsonrpc: "2.0", id, error: { code: -32600, message: "not today" } }) + "\\n");
});`;

/** A server whose tools/list answer breaks the MCP schema (a tool named by a number, no inputSchema). */
const MALFORMED_SERVER = `let buf = "";
process.stdin.on("data", (d) => {
  buf += d;
  for (let i; (i = buf.indexOf("\\n")) >= 0; buf = buf.slice(i + 1)) {
    const m = JSON.parse(buf.slice(0, i));
    const result = m.method === "initialize"
      ? { protocolVersion: m.params.protocolVersion, capabilities: { tools: {} }, serverInfo: { name: "x", version: "1" } }
      : { tools: [{ name: 1 }] };
    if (m.id !== undefined) process.stdout.write(JSON.stringify({ jsonrpc: "2.0", id: m.id, result }) + "\\n");
  }
});`;

async function problem(command: string, args: string[]): Promise<AssayError> {
  try {
    await listServerTools(command, args);
  } catch (err) {
    assert.ok(err instanceof AssayError, `an AssayError, not ${String(err)}`);
    return err;
  }
  assert.fail("listServerTools resolved");
}

describe("listServerTools (assay mcp pins update)", () => {
  test("every page of a server's tools/list", async () => {
    const dir = mkdtempSync(join(tmpdir(), "assay-list-tools-"));
    try {
      const tools = await listServerTools(process.execPath, [RECORDING_SERVER, join(dir, "rec"), "paged"]);
      assert.deepEqual(
        tools.map((t) => t.name),
        ["read_file", "list_dir", "write_file", "exec", "crash", "hang"],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a server that cannot start, leaves or refuses is a one-line input error naming it, not an internal one", async () => {
    for (const [command, args, message] of [
      ["/nonexistent/assay-no-such-server", [], "cannot start `/nonexistent/assay-no-such-server`: ENOENT"],
      ["true", [], "`true` closed the connection before listing its tools (did it exit?)"],
      [
        process.execPath,
        ["-e", REFUSING_SERVER],
        `cannot list the tools of \`${process.execPath}\`: MCP error -32600: not today`,
      ],
    ] as const) {
      const err = await problem(command, [...args]);
      assert.equal(err.code, "input_unreadable", command);
      assert.equal(err.message, message);
      assert.ok(!err.message.includes("\n"));
    }
  });

  test("an answer that breaks the MCP schema is named in one line, not as zod's JSON", async () => {
    const err = await problem(process.execPath, ["-e", MALFORMED_SERVER]);
    assert.equal(
      err.message,
      `\`${process.execPath}\` sent an invalid answer at /tools/0/name: Invalid input: expected string, received number`,
    );
  });
});
