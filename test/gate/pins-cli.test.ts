import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import type { Client } from "@modelcontextprotocol/sdk/client/index.js";
import type { Tool } from "@modelcontextprotocol/sdk/types.js";
import { pinTool } from "../../src/gate/pins.js";
import { canonicalDigest, sha256Digest } from "../../src/lib/canonical-json.js";
import {
  assertBuilt,
  connectWrap,
  decisions,
  OPEN_PACK,
  RECORDING_SERVER,
  tempDir,
  writePack,
} from "./helpers.js";

/** Every page of the server's tools/list, as the client sees them. */
async function listAll(client: Client): Promise<Tool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 10; page++) {
    const res = await client.listTools(cursor === undefined ? {} : { cursor });
    tools.push(...res.tools);
    cursor = res.nextCursor;
    if (!cursor) return tools;
  }
  throw new Error("too many pages");
}

const readPins = (path: string) =>
  JSON.parse(readFileSync(path, "utf8")) as { schema_version: number; tools: Record<string, unknown> };

describe("assay mcp wrap --pins", () => {
  before(assertBuilt);

  test("every tool the session lists is pinned, on every page, so a rug pull on a later page is caught next time", async (t) => {
    const dir = await tempDir(t);
    const pack = await writePack(dir, "open.yaml", OPEN_PACK);
    const pins = join(dir, "pins.json");
    const server = (n: number) => [process.execPath, RECORDING_SERVER, join(dir, `r${n}.bin`), "paged"];

    const first = await connectWrap(["--policy", pack, "--pins", pins], server(1));
    try {
      const names = (await listAll(first.client)).map((t) => t.name);
      assert.deepEqual(names, ["read_file", "list_dir", "write_file", "crash", "hang"], "exec is denied");
    } finally {
      await first.close();
    }
    const doc = readPins(pins);
    assert.equal(doc.schema_version, 2);
    assert.deepEqual(Object.keys(doc.tools), [
      "crash",
      "exec",
      "hang",
      "list_dir",
      "read_file",
      "write_file",
    ]);

    const log = join(dir, "d2.ndjson");
    const second = await connectWrap(["--policy", pack, "--pins", pins, "--decision-log", log], server(2), {
      env: { ASSAY_TEST_RUG: "hang" },
    });
    try {
      const names = (await listAll(second.client)).map((t) => t.name);
      assert.ok(!names.includes("hang"), `the changed tool on page 2 is hidden: ${names}`);
      const r = await second.client.callTool({ name: "hang", arguments: {} });
      assert.equal(r.isError, true);
      assert.deepEqual(
        decisions(log).map((d) => [d.data.tool, d.data.reason_code]),
        [["hang", "tool_drift"]],
      );
    } finally {
      await second.close();
    }
  });

  test("an existing pins file gains the tools it did not pin; version 1 pins of unchanged tools become full pins", async (t) => {
    const dir = await tempDir(t);
    const pack = await writePack(dir, "open.yaml", OPEN_PACK);
    const pins = join(dir, "pins.json");
    const readFile = { type: "object", properties: { path: { type: "string" } } };
    const v1 = { input_schema: canonicalDigest(readFile), description: sha256Digest("read a file") };
    writeFileSync(pins, JSON.stringify({ schema_version: 1, tools: { read_file: v1 } }));
    const s = await connectWrap(
      ["--policy", pack, "--pins", pins],
      [process.execPath, RECORDING_SERVER, join(dir, "r.bin")],
    );
    try {
      await listAll(s.client);
    } finally {
      await s.close();
    }
    const doc = readPins(pins);
    assert.equal(doc.schema_version, 2);
    assert.deepEqual(
      doc.tools.read_file,
      pinTool({ name: "read_file", description: "read a file", inputSchema: readFile }),
    );
    assert.equal(Object.keys(doc.tools).length, 6);
  });
});
