#!/usr/bin/env node
// `npm run demo`, part 2: a real MCP client talks to the real filesystem server through
// `assay mcp wrap`. Reads inside the workspace work; a write and a path escape are denied by the
// gate and never reach the server; every call leaves one record in the decision log.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

const root = fileURLToPath(new URL("..", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "assay-demo-"));
const workspace = join(dir, "workspace");
const log = join(dir, "decisions.ndjson");
const contextFile = join(dir, "context.json");
let failed = false;
const expect = (ok, what) => {
  if (!ok) {
    failed = true;
    console.log(`  UNEXPECTED: ${what}`);
  }
};

try {
  mkdirSync(workspace);
  writeFileSync(join(workspace, "notes.txt"), "ship the gate on Monday\n");
  writeFileSync(contextFile, JSON.stringify({ workspace }));

  const args = [
    join(root, "bin/assay"),
    "mcp",
    "wrap",
    "--policy",
    join(root, "examples/gate-pack.yaml"),
    "--context",
    contextFile,
    "--decision-log",
    log,
    "--label",
    "demo-filesystem",
    "--",
    process.execPath,
    join(root, "node_modules/@modelcontextprotocol/server-filesystem/dist/index.js"),
    workspace,
  ];
  console.log(
    `$ assay mcp wrap --policy examples/gate-pack.yaml --decision-log decisions.ndjson -- mcp-server-filesystem <workspace>`,
  );
  const client = new Client({ name: "assay-demo", version: "1" });
  await client.connect(new StdioClientTransport({ command: process.execPath, args, stderr: "ignore" }));

  const { tools } = await client.listTools();
  console.log(`tools/list through the gate: ${tools.map((t) => t.name).join(", ")}`);
  expect(!tools.some((t) => t.name === "write_file"), "write_file should be filtered out");

  const show = async (name, a) => {
    const res = await client.callTool({ name, arguments: a });
    const text = res.content?.[0]?.text ?? "";
    console.log(
      `\ntools/call ${name} ${JSON.stringify(a)}\n  ${res.isError ? "isError: " : ""}${text.trim().split("\n")[0]}`,
    );
    return res;
  };
  const notes = join(workspace, "notes.txt");
  let res = await show("read_text_file", { path: notes });
  expect(!res.isError, "the read inside the workspace should be allowed");
  const planted = join(workspace, "planted.txt");
  res = await show("write_file", { path: planted, content: "pwned" });
  expect(res.isError && !existsSync(planted), "the write should be denied and never reach the server");
  res = await show("read_text_file", { path: `${workspace}/../../etc/passwd` });
  expect(res.isError, "the path escape should be denied");
  await client.close();

  const events = readFileSync(log, "utf8")
    .trim()
    .split("\n")
    .map((l) => JSON.parse(l));
  const [start, ...records] = events;
  expect(start.type === "assay.gate.started", "the log opens with the gate's start record");
  console.log(`\ndecision log: ${start.type} (server ${start.data.server.at(-1)}), then`);
  console.log(`${records.length} decisions, one per tools/call, each written before the call went on:`);
  for (const r of records) {
    const d = r.data;
    console.log(
      `  ${r.id.split(":").pop()}  ${d.outcome.padEnd(9)} ${d.tool.padEnd(15)} rule=${d.rule_id} reason=${d.reason_code} ${d.latency_us} µs`,
    );
  }
  expect(records.length === 3 && records.every((r) => r.type === "assay.tool.decision"), "three decisions");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
if (failed) process.exit(1);
