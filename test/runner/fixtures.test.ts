import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { cp, mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { promisify } from "node:util";
import { assertBuilt } from "../gate/helpers.js";
import { ASSAY_BIN, ROOT } from "../run-assay.js";
import { suiteTempDir } from "../temp-dir.js";

// The runner fixtures of examples/runner/, run the way `assay runner capture` runs them but
// without it: a gated MCP config written by hand, the runner's variables set by hand, the real
// gate (bin/assay) in front of the real fixture server.

const run = promisify(execFile);
const EXAMPLES = join(ROOT, "examples/runner");
const SERVER = join(EXAMPLES, "servers/read-file-server.mjs");
const CALL_ID = "tc_runner_policy_001";
const RUN_ID = "run_fixture_test";

const FIXTURES = [
  { name: "mcp-sdk", source: "mcp-sdk-fixture", sdkName: "@modelcontextprotocol/sdk" },
  { name: "openai-agents", source: "openai-agents-fixture", sdkName: "@openai/agents" },
] as const;

interface Capture {
  code: number;
  decisions: { type: string; data: { tool_call_id: string; tool: string; effect: string } }[];
  sdkLog: string;
}

async function installedVersion(name: string): Promise<string> {
  const pkg = JSON.parse(await readFile(join(ROOT, "node_modules", name, "package.json"), "utf8"));
  return pkg.version as string;
}

/** One run of a fixture in `dir` (its work dir recreated, as the runner does), behind `policy`. */
async function capture(fixture: string, dir: string, policy: string): Promise<Capture> {
  const work = join(dir, "work");
  await rm(dir, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  await cp(join(EXAMPLES, fixture, "work"), work, { recursive: true });
  const decisionLog = join(dir, "decisions.ndjson");
  const sdkLog = join(dir, "sdk.ndjson");
  const mcpConfig = join(dir, "mcp.json");
  const wrap = [ASSAY_BIN, "mcp", "wrap", "--policy", policy, "--decision-log", decisionLog, "--"];
  const server = { command: process.execPath, args: [...wrap, process.execPath, SERVER], cwd: work };
  await writeFile(mcpConfig, JSON.stringify({ mcpServers: { "read-file": server } }));
  let code = 0;
  try {
    await run(process.execPath, [join(EXAMPLES, fixture, "agent.mjs")], {
      cwd: work,
      timeout: 60_000,
      env: {
        PATH: process.env.PATH ?? "",
        ASSAY_MCP_CONFIG: mcpConfig,
        ASSAY_RUNNER_WORK_DIR: work,
        ASSAY_RUNNER_SDK_EVENT_LOG: sdkLog,
        ASSAY_RUNNER_RUN_ID: RUN_ID,
        ASSAY_RUNNER_SDK_EVENT_SCHEMA: "assay.runner.sdk_event.v0",
      },
    });
  } catch (err) {
    code = (err as { code?: number }).code ?? -1;
  }
  const decisions = (await readFile(decisionLog, "utf8"))
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l))
    .filter((e) => e.type === "assay.tool.decision");
  return { code, decisions, sdkLog: await readFile(sdkLog, "utf8") };
}

function sdkEvents(log: string): Record<string, unknown>[] {
  return log
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l));
}

before(() => {
  assertBuilt();
  const built = join(ROOT, "dist/runner/sdk-events.js");
  assert.ok(existsSync(built), "dist/ has no runner/sdk-events.js: run `npm run build`");
  const stale = statSync(built).mtimeMs + 1 < statSync(join(ROOT, "src/runner/sdk-events.ts")).mtimeMs;
  assert.ok(!stale, "dist/ is older than src/runner/sdk-events.ts: run `npm run build`");
});

for (const fixture of FIXTURES) {
  describe(`runner fixture ${fixture.name}`, () => {
    const tmp = suiteTempDir(`assay-runner-${fixture.name}-`);
    const policy = join(EXAMPLES, "policy.yaml");

    test("one allowed read_file bound to the fixed call id; three SDK events; byte-identical twice", async () => {
      const dir = join(tmp, "run");
      const first = await capture(fixture.name, dir, policy);
      assert.equal(first.code, 0);
      assert.equal(first.decisions.length, 1);
      const [decision] = first.decisions;
      assert.equal(decision?.data.tool_call_id, CALL_ID);
      assert.equal(decision?.data.tool, "read_file");
      assert.equal(decision?.data.effect, "allow");

      const version = await installedVersion(fixture.sdkName);
      const tool = { tool_call_id: CALL_ID, tool: "read_file" };
      const none = { tool_call_id: null, tool: null };
      assert.deepEqual(
        sdkEvents(first.sdkLog),
        [
          ["tool_call_started", tool],
          ["tool_call_completed", tool],
          ["run_finished", none],
        ].map(([event_type, ids], seq) => ({
          schema: "assay.runner.sdk_event.v0",
          run_id: RUN_ID,
          seq,
          event_type,
          source: fixture.source,
          sdk_name: fixture.sdkName,
          sdk_version: version,
          ...(ids as object),
        })),
      );

      const second = await capture(fixture.name, dir, policy);
      assert.equal(second.code, 0);
      assert.equal(second.sdkLog, first.sdkLog);
    });

    test("a denied call keeps its id in the decision and fails the run", async () => {
      const deny = join(tmp, "deny.yaml");
      await writeFile(
        deny,
        "id: deny-read\nversion: '1'\ndefaults: deny\nrules:\n  - id: no-read\n    dimension: control\n    severity: high\n    tools: { deny: [read_file] }\n",
      );
      const got = await capture(fixture.name, join(tmp, "denied"), deny);
      assert.equal(got.code, 1);
      assert.deepEqual(
        got.decisions.map((d) => [d.data.tool_call_id, d.data.tool, d.data.effect]),
        [[CALL_ID, "read_file", "deny"]],
      );
      assert.deepEqual(
        sdkEvents(got.sdkLog).map((e) => [e.event_type, e.tool_call_id]),
        [
          ["tool_call_started", CALL_ID],
          ["tool_call_completed", CALL_ID],
          ["run_failed", null],
        ],
      );
    });
  });
}
