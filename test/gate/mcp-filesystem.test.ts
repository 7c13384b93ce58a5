import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { McpError } from "@modelcontextprotocol/sdk/types.js";
import { canonicalDigest } from "../../src/lib/canonical-json.js";
import type { DecisionEvent } from "../../src/records/decision-event.js";
import {
  ASSAY_BIN,
  assertBuilt,
  connectWrap,
  decisions,
  FILESYSTEM_SERVER,
  type WrapSession,
} from "./helpers.js";

/**
 * The official MCP client drives `assay mcp wrap` around @modelcontextprotocol/server-filesystem.
 * The server may use all of SRV; the policy confines the agent to WS = SRV/ws, and SRV/ws/ro is
 * read-only. So every blocked write below is one the server itself would have carried out
 * (the dry-run test shows it does): when the file system is unchanged, the gate stopped it.
 */
let root: string;
let SRV: string;
let WS: string;
let pack: string;

const ALLOWED = [
  "create_directory",
  "get_file_info",
  "list_allowed_directories",
  "list_directory",
  "read_text_file",
  "write_file",
];

function escapeRe(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

type ToolResult = {
  isError?: boolean;
  content?: Array<{ type: string; text?: string }>;
  _meta?: Record<string, unknown>;
};

const textOf = (r: unknown) => ((r as ToolResult).content ?? []).map((c) => c.text ?? "").join("\n");
const decisionIn = (r: unknown) =>
  (r as ToolResult)._meta?.["dev.assay/decision"] as { rule_id: string; reason_code: string } | undefined;

before(async () => {
  assertBuilt();
  root = await mkdtemp(join(tmpdir(), "assay-fs-"));
  SRV = join(root, "srv");
  WS = join(SRV, "ws");
  await mkdir(join(WS, "ro"), { recursive: true });
  await mkdir(join(root, "outside"));
  await writeFile(join(WS, "hello.txt"), "hello gate\n");
  await writeFile(join(WS, "ro", "keep.txt"), "read only\n");
  await writeFile(join(SRV, "secret.txt"), "top secret\n");
  pack = join(root, "fs-pack.yaml");
  const ws = escapeRe(WS);
  await writeFile(
    pack,
    `
id: fs-gate
version: "1.0.0"
defaults: deny
rules:
  - id: fs-tools
    dimension: security
    severity: high
    tools:
      allow: [${ALLOWED.join(", ")}]
      deny: [edit_file, move_file]
  - id: workspace-only
    dimension: security
    severity: high
    message: files outside the workspace are off limits
    args:
      tools: [read_text_file, list_directory, write_file, create_directory, get_file_info]
      schema:
        type: object
        properties:
          path: { type: string, pattern: '^${ws}(/.*)?$', not: { pattern: '(^|/)\\.\\.(/|$)' } }
        required: [path]
  - id: read-only-dir
    dimension: safety
    severity: high
    message: the ro directory is read-only
    args:
      tools: [write_file, create_directory]
      schema:
        type: object
        properties:
          path: { type: string, not: { pattern: '^${ws}/ro(/|$)' } }
`,
  );
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function wrap(extra: string[], log: string): Promise<WrapSession> {
  return connectWrap(
    ["--policy", pack, "--decision-log", log, ...extra],
    [process.execPath, FILESYSTEM_SERVER, SRV],
  );
}

describe("assay mcp wrap around server-filesystem", () => {
  test("allowed reads and writes work, denied writes and path escapes never reach the server", async () => {
    const log = join(root, "a.ndjson");
    const pins = join(root, "pins.json");
    const s = await wrap(["--pins", pins], log);
    try {
      let calls = 0;
      /** Call a tool, then check that its one record was already in the log when the answer came. */
      const call = async (name: string, args: Record<string, unknown>) => {
        const r = await s.client.callTool({ name, arguments: args });
        calls++;
        const ds = decisions(log);
        assert.equal(ds.length, calls, `one record per call, written before the answer (after ${name})`);
        return { r, d: ds.at(-1) as DecisionEvent };
      };

      const listed = await s.client.listTools();
      assert.deepEqual(listed.tools.map((t) => t.name).sort(), ALLOWED, "denied tools are not listed");
      assert.ok(existsSync(pins), "the first tools/list wrote the pins file");
      const pinned = JSON.parse(readFileSync(pins, "utf8")) as { tools: Record<string, unknown> };
      assert.ok(
        "edit_file" in pinned.tools && "read_text_file" in pinned.tools,
        "every listed tool is pinned",
      );

      const read = await call("read_text_file", { path: join(WS, "hello.txt") });
      assert.equal(read.r.isError, undefined);
      assert.equal(textOf(read.r), "hello gate\n");
      assert.equal(read.d.data.outcome, "forwarded");
      assert.equal(read.d.data.tool, "read_text_file");

      const dir = await call("list_directory", { path: WS });
      assert.match(textOf(dir.r), /hello\.txt/);

      const write = await call("write_file", {
        path: join(WS, "new.txt"),
        content: "written through the gate",
      });
      assert.notEqual(write.r.isError, true, textOf(write.r));
      assert.equal(await readFile(join(WS, "new.txt"), "utf8"), "written through the gate");

      // Denied writes: by tool, and by argument.
      const edit = await call("edit_file", {
        path: join(WS, "hello.txt"),
        edits: [{ oldText: "hello", newText: "pwned" }],
      });
      assert.equal(edit.r.isError, true);
      assert.equal(decisionIn(edit.r)?.reason_code, "tool_denied");
      assert.equal(edit.d.data.outcome, "denied");
      const move = await call("move_file", {
        source: join(WS, "hello.txt"),
        destination: join(WS, "moved.txt"),
      });
      assert.equal(move.r.isError, true);
      const ro = await call("write_file", { path: join(WS, "ro", "keep.txt"), content: "overwritten" });
      assert.equal(ro.r.isError, true);
      assert.match(textOf(ro.r), /read-only-dir/);
      assert.equal(decisionIn(ro.r)?.rule_id, "read-only-dir");
      assert.equal(await readFile(join(WS, "hello.txt"), "utf8"), "hello gate\n");
      assert.ok(!existsSync(join(WS, "moved.txt")));
      assert.equal(await readFile(join(WS, "ro", "keep.txt"), "utf8"), "read only\n");

      // Path escapes: `..` out of the workspace, absolute paths outside it (inside and outside the server's root).
      const escapes = [
        join(WS, "..", "escaped.txt"),
        `${WS}/../escaped.txt`,
        `${WS}/ok/../../escaped.txt`,
        join(SRV, "secret.txt"),
        join(root, "outside", "x.txt"),
        "/tmp/assay-gate-escape.txt",
        "escaped-relative.txt",
      ];
      for (const path of escapes) {
        const r = await call("write_file", { path, content: "escaped" });
        assert.equal(r.r.isError, true, path);
        assert.equal(r.d.data.rule_id, "workspace-only", path);
        assert.equal(r.d.data.outcome, "denied");
      }
      assert.ok(!existsSync(join(SRV, "escaped.txt")), "`..` escape did not write");
      assert.equal(await readFile(join(SRV, "secret.txt"), "utf8"), "top secret\n");
      assert.ok(!existsSync(join(root, "outside", "x.txt")));
      const secret = await call("read_text_file", { path: join(SRV, "secret.txt") });
      assert.equal(secret.r.isError, true);
      assert.ok(!textOf(secret.r).includes("top secret"), "the secret was not read");

      // Every record validated against the schema when written; each names the policy.
      const ds = decisions(log);
      assert.equal(new Set(ds.map((d) => d.data.policy_digest)).size, 1);
      assert.equal(ds.filter((d) => d.data.outcome === "forwarded").length, 3);
    } finally {
      await s.close();
    }
  });

  test("--deny-mode error: a tool outside the allowlist gets the server's own answer for an absent tool; --no-filter-tools lists it", async () => {
    const log = join(root, "b.ndjson");
    const s = await wrap(["--deny-mode", "error", "--no-filter-tools"], log);
    try {
      const names = (await s.client.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes("edit_file") && names.includes("directory_tree"), names.join(","));
      for (const name of ["edit_file", "directory_tree"]) {
        const r = await s.client.callTool({ name, arguments: { path: WS } });
        assert.deepEqual(r, {
          content: [{ type: "text", text: `MCP error -32602: Tool ${name} not found` }],
          isError: true,
        });
      }
      // An argument-level deny is a policy error (-32001) carrying the decision.
      const err = await s.client
        .callTool({ name: "write_file", arguments: { path: join(SRV, "x.txt"), content: "x" } })
        .then(
          () => assert.fail("not refused"),
          (e: unknown) => e,
        );
      assert.ok(err instanceof McpError);
      assert.equal(err.code, -32001);
      assert.equal((err.data as { rule_id: string }).rule_id, "workspace-only");
      assert.ok(!existsSync(join(SRV, "x.txt")));
      assert.deepEqual(
        decisions(log).map((d) => d.data.outcome),
        ["denied", "denied", "denied"],
      );
    } finally {
      await s.close();
    }
  });

  test("--dry-run forwards what it would deny and records would_deny (the server does write it)", async () => {
    const log = join(root, "c.ndjson");
    const s = await wrap(["--dry-run"], log);
    try {
      const names = (await s.client.listTools()).tools.map((t) => t.name);
      assert.ok(!names.includes("edit_file"), "listing is still filtered in a dry run");
      const r = await s.client.callTool({
        name: "write_file",
        arguments: { path: `${WS}/../dry-run.txt`, content: "dry" },
      });
      assert.notEqual(r.isError, true, textOf(r));
      assert.equal(
        await readFile(join(SRV, "dry-run.txt"), "utf8"),
        "dry",
        "the server carries out what the gate forwards",
      );
      const [d] = decisions(log);
      assert.equal(d?.data.outcome, "would_deny");
      assert.equal(d?.data.effect, "deny");
      assert.equal(d?.data.dry_run, true);
    } finally {
      await s.close();
    }
  });

  test("pins: a tampered pin denies the tool with tool_drift and hides it until `assay mcp pins update`", async () => {
    const pins = join(root, "pins-drift.json");
    const first = await wrap(["--pins", pins], join(root, "d0.ndjson"));
    try {
      await first.client.listTools();
    } finally {
      await first.close();
    }
    const doc = JSON.parse(await readFile(pins, "utf8")) as {
      tools: Record<string, { fields: { description: string } }>;
    };
    assert.ok(doc.tools.read_text_file);
    doc.tools.read_text_file.fields.description = canonicalDigest("an older, different description");
    const tampered = `${JSON.stringify(doc, null, 2)}\n`;
    await writeFile(pins, tampered);

    const log = join(root, "d1.ndjson");
    const drifted = await wrap(["--pins", pins], log);
    try {
      const names = (await drifted.client.listTools()).tools.map((t) => t.name);
      assert.ok(!names.includes("read_text_file"), "a drifted tool is hidden");
      assert.ok(names.includes("list_directory"));
      const r = await drifted.client.callTool({
        name: "read_text_file",
        arguments: { path: join(WS, "hello.txt") },
      });
      assert.equal(r.isError, true);
      assert.ok(!textOf(r).includes("hello gate"));
      assert.equal(decisionIn(r)?.reason_code, "tool_drift");
      const [d] = decisions(log);
      assert.equal(d?.data.reason_code, "tool_drift");
      assert.equal(d?.data.outcome, "denied");
      const ok = await drifted.client.callTool({ name: "list_directory", arguments: { path: WS } });
      assert.notEqual(ok.isError, true, "other tools still work");
    } finally {
      await drifted.close();
    }
    assert.equal(
      await readFile(pins, "utf8"),
      tampered,
      "nothing new was pinned: the file is left as it was",
    );

    const update = spawnSync(
      process.execPath,
      [ASSAY_BIN, "mcp", "pins", "update", "--pins", pins, "--", process.execPath, FILESYSTEM_SERVER, SRV],
      { encoding: "utf8", timeout: 20_000 },
    );
    assert.equal(update.status, 0, update.stderr);
    assert.match(update.stdout, /~ read_text_file \(description\)/);

    const approved = await wrap(["--pins", pins], join(root, "d2.ndjson"));
    try {
      const names = (await approved.client.listTools()).tools.map((t) => t.name);
      assert.ok(names.includes("read_text_file"), "re-approved tools are listed again");
      const r = await approved.client.callTool({
        name: "read_text_file",
        arguments: { path: join(WS, "hello.txt") },
      });
      assert.equal(textOf(r), "hello gate\n");
    } finally {
      await approved.close();
    }
  });
});
