import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, type TestContext, test } from "node:test";
import { fileURLToPath } from "node:url";
import { AssayError } from "../../../src/lib/errors.js";
import { STOP_SIGNALS } from "../../../src/lib/process-group.js";
import { createCommandDriver } from "../../../src/sim/drivers/command.js";
import { serializeSoakReport, soakReportProblems } from "../../../src/sim/soak/report.js";
import { runSoak } from "../../../src/sim/soak/run.js";
import { trialSeed } from "../../../src/sim/stats/seeds.js";
import { loadBundle } from "../../../src/sim/target/load.js";
import { assertBuilt } from "../../gate/helpers.js";
import { tempDir } from "../../temp-dir.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const ASSAY = join(ROOT, "bin/assay");
const NODE_AGENT = join(ROOT, "examples/node-agent");

const dir = (t: TestContext) => tempDir("assay-cmd-", t);

const PACK = `id: p
version: "1"
defaults: allow
rules:
  - id: no-exec
    dimension: security
    severity: critical
    tools: { deny: [exec] }
`;

/**
 * A stand-in agent (no MCP client): it records what it was handed into its scratch directory, then
 * does what its scenario's input says: start its gate and hang up (ok), also forge a record into
 * the gate's log (forge), start nothing (nogate), crash, or hang with grandchildren.
 */
const FAKE_AGENT = `
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
const e = process.env;
const input = JSON.parse(e.ASSAY_INPUT);
const config = JSON.parse(readFileSync(e.ASSAY_MCP_CONFIG, "utf8"));
writeFileSync(e.ASSAY_TRIAL_DIR + "/handed.json", JSON.stringify({
  seed: e.ASSAY_SEED, scenario: e.ASSAY_SCENARIO, input, traceparent: e.TRACEPARENT, trial: e.ASSAY_TRIAL,
  mode: e.MODE, cwd: process.cwd(), argv: process.argv.slice(2), config,
}));
/** Start the gate of server "files" as an MCP client would, then hang up at once. */
async function runGate() {
  const s = config.mcpServers.files;
  const gate = spawn(s.command, s.args, { cwd: s.cwd, env: { ...process.env, ...s.env }, stdio: ["pipe", "ignore", "inherit"] });
  gate.stdin.end();
  await new Promise((r) => gate.on("exit", r));
  return s.args[s.args.indexOf("--decision-log") + 1];
}
if (input.mode === "ok") await runGate();
if (input.mode === "forge") {
  const log = await runGate();
  appendFileSync(log, JSON.stringify({ specversion: "1.0", id: "x", source: "urn:assay:mcp-gate:files",
    type: "assay.tool.decision", time: new Date().toISOString(), datacontenttype: "application/json",
    data: { tool: "exec", arguments: {} } }) + "\\n");
}
if (input.mode === "crash") { console.error("warming up"); console.error("boom: the agent fell over"); process.exit(3); }
if (input.mode === "hang") {
  // One grandchild in the agent's process group (the timeout must stop it), and one in a group of
  // its own that ignores SIGTERM and holds the agent's stderr (the trial must not wait for it).
  const inGroup = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { stdio: "ignore" });
  const holder = spawn(process.execPath, ["-e", "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000)"], { stdio: ["ignore", "ignore", "inherit"], detached: true });
  writeFileSync(e.PID_FILE, JSON.stringify([inGroup.pid, holder.pid]));
  setInterval(() => {}, 1000);
}
`;
const FAKE_SERVER = "process.stdin.resume(); process.stdin.on('end', () => process.exit(0));\n";

async function fakeBundle(
  t: TestContext,
  scenarios: { id: string; mode: string }[],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the driver's own placeholder, not a template
  command = "run: [node, agent.mjs, '${ASSAY_TRIAL_DIR}']\n    timeout_seconds: 30",
  env = "{ MODE: from-bundle }",
): Promise<string> {
  const d = join(dir(t), "bundle");
  await mkdir(join(d, "ws", "sub"), { recursive: true });
  await mkdir(join(d, "packs"));
  await writeFile(join(d, "packs", "p.yaml"), PACK);
  await writeFile(join(d, "agent.mjs"), FAKE_AGENT);
  await writeFile(join(d, "server.js"), FAKE_SERVER);
  await writeFile(join(d, "ws", "sub", "seed.txt"), "seeded\n");
  const list = scenarios
    .map((s) => `  - { id: ${s.id}, dimension: control, input: { mode: ${s.mode} } }`)
    .join("\n");
  await writeFile(
    join(d, "assay-target.yaml"),
    `id: fake
version: "1"
packs: [packs/p.yaml]
scenarios:
${list}
canaries:
  - { id: exec-flagged, expect: flagged, rules: [no-exec], trace: [{ tool: exec }] }
decision_policy: { min_pass_rate: 0.5, ci_lower_floor: 0.01, max_infra_error_rate: 0.5 }
driver:
  kind: command
  command:
    ${command}
    env: ${env}
    workspace: ws
    mcp_servers:
      files: { command: [node, "\${ASSAY_BUNDLE_DIR}/server.js", "\${ASSAY_TRIAL_DIR}"], env: { LEVEL: debug } }
`,
  );
  return d;
}

describe("the command driver", () => {
  test("hands the agent its seed, scenario, input, traceparent, scratch dir and a gated MCP config", async (t) => {
    const b = await fakeBundle(t, [
      { id: "a", mode: "ok" },
      { id: "b", mode: "ok" },
    ]);
    const work = join(dir(t), "work");
    const bundle = await loadBundle(b);
    const { report, verdict } = await runSoak({
      bundle,
      iterations: 2,
      seed: 42n,
      assayVersion: "test",
      driverOptions: { workDir: work },
    });
    assert.deepEqual(soakReportProblems(report), []);
    assert.equal(verdict.exit, 0);
    assert.deepEqual(
      (report.trials ?? []).map((x) => x.outcome),
      ["pass", "pass"],
    );
    for (const i of [0, 1]) {
      const trialDir = join(work, "trials", String(i + 1));
      const scratch = join(trialDir, "work");
      const handed = JSON.parse(await readFile(join(scratch, "handed.json"), "utf8"));
      assert.equal(handed.seed, trialSeed(42n, i).toString());
      assert.equal(handed.scenario, ["a", "b"][i]);
      assert.equal(handed.trial, `${["a", "b"][i]}#${i + 1}`);
      assert.deepEqual(handed.input, { mode: "ok" });
      assert.equal(handed.traceparent, report.trace.traceparent);
      assert.equal(handed.mode, "from-bundle");
      assert.equal(handed.cwd, b);
      assert.deepEqual(handed.argv, [scratch]);
      // The workspace is copied in, and nothing else.
      assert.equal(readFileSync(join(scratch, "sub", "seed.txt"), "utf8"), "seeded\n");
      const server = handed.config.mcpServers.files;
      assert.equal(server.cwd, scratch);
      assert.deepEqual(server.env, { LEVEL: "debug" });
      const args: string[] = server.args;
      const sep = args.indexOf("--");
      assert.deepEqual(args.slice(sep + 1), ["node", join(b, "server.js"), scratch]);
      assert.deepEqual(args.slice(1, 3), ["mcp", "wrap"]);
      const policy = args[args.indexOf("--policy") + 1] as string;
      assert.equal(await readFile(policy, "utf8"), PACK, "the gate gets the bundle's own pack bytes");
      const log = args[args.indexOf("--decision-log") + 1] as string;
      assert.equal(log, join(trialDir, "decisions-files.ndjson"), "the log is outside the scratch dir");
      const [started] = (await readFile(log, "utf8"))
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      assert.equal(started.type, "assay.gate.started");
      assert.equal(started.data.session_id, handed.trial);
      assert.equal(started.data.policy_digest, bundle.policy.digest);
      assert.ok(args.includes("--log-arguments"));
      assert.equal(args[args.indexOf("--session-id") + 1], handed.trial);
    }
  });

  test("a crash, a timeout and a command that cannot start are infra errors, never passes or failures", async (t) => {
    const pidFile = join(dir(t), "grandchild.pid");
    const b = await fakeBundle(
      t,
      [
        { id: "crashes", mode: "crash" },
        { id: "hangs", mode: "hang" },
      ],
      "run: [node, agent.mjs]\n    timeout_seconds: 4",
      `{ PID_FILE: "${pidFile}" }`,
    );
    const started = performance.now();
    const { report, verdict } = await runSoak({
      bundle: await loadBundle(b),
      iterations: 2,
      seed: 1n,
      assayVersion: "test",
    });
    // Timeout 4 s, SIGKILL 2 s later, then at most 1 s for stderr: the holder does not keep it.
    assert.ok(performance.now() - started < 20_000, "the trial ended although stderr stayed open");
    const [crash, hang] = report.trials ?? [];
    assert.equal(crash?.outcome, "infra_error");
    assert.equal(crash?.error_kind, "agent_exit");
    assert.equal(crash?.error_message, "the agent exited with code 3: boom: the agent fell over");
    assert.equal(hang?.outcome, "infra_error");
    assert.equal(hang?.error_kind, "timeout");
    assert.ok((hang?.duration_seconds ?? 0) >= 4);
    assert.equal(report.summary.thresholds_used.infra_error_count, 2);
    assert.equal(report.summary.thresholds_used.pass_count, 0);
    assert.equal(report.summary.thresholds_used.fail_count, 0);
    assert.equal(verdict.exit, 2, "an infra-error rate over its limit is a measurement failure");
    // The whole process group went, the agent's grandchild with it; the holder, in a group of its
    // own, is the test's to stop.
    const [inGroup, holder] = JSON.parse(readFileSync(pidFile, "utf8")) as number[];
    try {
      process.kill(holder as number, "SIGKILL");
    } catch {
      // already gone
    }
    assert.ok(await gone(inGroup as number), `grandchild ${inGroup} still running`);

    const missing = await fakeBundle(t, [{ id: "a", mode: "ok" }], "run: [no-such-agent-binary]");
    const r = await runSoak({
      bundle: await loadBundle(missing),
      iterations: 1,
      seed: 1n,
      assayVersion: "t",
    });
    assert.equal(r.report.trials?.[0]?.error_kind, "spawn_failed");
    assert.equal(r.report.trials?.[0]?.error_message, "cannot start `no-such-agent-binary`: ENOENT");
  });

  test("no trustworthy trace is never a pass: no gate started, a forged record", async (t) => {
    const b = await fakeBundle(t, [
      { id: "nogate", mode: "nogate" },
      { id: "forge", mode: "forge" },
    ]);
    const { report } = await runSoak({
      bundle: await loadBundle(b),
      iterations: 2,
      seed: 1n,
      assayVersion: "t",
    });
    const [nogate, forge] = report.trials ?? [];
    assert.equal(nogate?.outcome, "infra_error");
    assert.equal(nogate?.error_kind, "gate_not_used");
    assert.equal(forge?.outcome, "infra_error");
    assert.equal(forge?.error_kind, "gate_error");
    assert.match(forge?.error_message ?? "", /^decision log of `files`, line 2: not a gate record: /);
  });

  test("a tarball bundle is unpacked for the agent; the CLI takes --concurrency", async (t) => {
    const b = await fakeBundle(t, [
      { id: "a", mode: "ok" },
      { id: "b", mode: "ok" },
    ]);
    const d = dir(t);
    const tgz = join(d, "fake.tgz");
    assert.equal(spawnSync("tar", ["-czf", tgz, "-C", b, "."]).status, 0);
    const reports = ["1", "3"].map((n) => {
      const out = join(d, `r${n}.json`);
      const r = spawnSync(
        process.execPath,
        [ASSAY, "sim", "soak", "-t", tgz, "-n", "6", "--concurrency", n, "--deterministic", "-r", out],
        { encoding: "utf8", timeout: 120_000 },
      );
      const text = readFileSync(out, "utf8");
      assert.equal(r.status, 0, `${r.stderr}\n${text.slice(text.indexOf('"trials"'))}`);
      return text;
    });
    assert.equal(reports[0], reports[1]);
    assert.match(reports[0] as string, /"pass_count": 6/);
    const bad = spawnSync(
      process.execPath,
      [ASSAY, "sim", "soak", "-t", tgz, "-n", "1", "--concurrency", "0", "-r", join(d, "x.json")],
      {
        encoding: "utf8",
      },
    );
    assert.equal(bad.status, 2);
    assert.equal(bad.stderr.trim(), "assay: --concurrency must be a positive integer, got `0`");
  });
});

describe("the command driver and signals", () => {
  const listeners = () => [...STOP_SIGNALS, "exit" as const].map((s) => process.listenerCount(s));

  test("its handlers last from creation to close(); a creation that fails leaves none", async (t) => {
    const bundle = await loadBundle(await fakeBundle(t, [{ id: "a", mode: "ok" }]));
    const before = listeners();
    const driver = await createCommandDriver(bundle, { traceparent: "00-x-y-01" });
    assert.deepEqual(
      listeners(),
      before.map((n) => n + 1),
    );
    await driver.close();
    assert.deepEqual(listeners(), before, "close() left signal handlers behind");

    const used = dir(t);
    await writeFile(join(used, "x"), "");
    await assert.rejects(
      createCommandDriver(bundle, { traceparent: "00-x-y-01", workDir: used }),
      (err: unknown) => err instanceof AssayError && err.code === "usage",
    );
    assert.deepEqual(listeners(), before, "a failed creation left signal handlers behind");
  });

  test("^C on `assay sim soak`: the agents' process groups stop, the temporary directory goes, assay dies of SIGINT", async (t) => {
    assertBuilt();
    const tmp = dir(t);
    const pidFile = join(dir(t), "grandchild.pid");
    const b = await fakeBundle(
      t,
      [{ id: "hangs", mode: "hang" }],
      "run: [node, agent.mjs]\n    timeout_seconds: 60",
      `{ PID_FILE: "${pidFile}" }`,
    );
    const assay = spawn(
      process.execPath,
      [ASSAY, "sim", "soak", "-t", b, "-n", "2", "--no-progress", "-r", join(tmp, "r.json")],
      { env: { ...process.env, TMPDIR: tmp }, stdio: ["ignore", "ignore", "pipe"] },
    );
    let stderr = "";
    assay.stderr?.on("data", (c: Buffer) => {
      stderr += c.toString();
    });
    const ended = new Promise<NodeJS.Signals | null>((r) => assay.once("exit", (_code, signal) => r(signal)));
    t.after(() => assay.kill("SIGKILL"));
    for (let i = 0; !existsSync(pidFile); i++) {
      assert.ok(i < 300, `the agent did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 100)); // the file is written whole before the agent idles
    const [inGroup, holder] = JSON.parse(readFileSync(pidFile, "utf8")) as number[];
    t.after(() => {
      try {
        process.kill(holder as number, "SIGKILL");
      } catch {
        // already gone
      }
    });
    assert.equal(readdirSync(tmp).filter((f) => f.startsWith("assay-soak-")).length, 1);
    assay.kill("SIGINT");
    const timeout = new Promise<string>((r) =>
      setTimeout(() => r("still running after 15 s"), 15_000).unref(),
    );
    assert.equal(await Promise.race([ended, timeout]), "SIGINT", stderr);
    assert.ok(await gone(inGroup as number), `grandchild ${inGroup} still running`);
    assert.deepEqual(
      readdirSync(tmp).filter((f) => f.startsWith("assay-soak-")),
      [],
      "the temporary directory stayed",
    );
  });
});

describe("examples/node-agent end to end (real agent, official SDK, server-filesystem, assay mcp wrap)", () => {
  test("its slips are caught by the rules they break, and --concurrency 4 gives the serial report", async () => {
    assertBuilt();
    const bundle = await loadBundle(NODE_AGENT);
    const run = (concurrency: number) =>
      runSoak({ bundle, iterations: 8, seed: 2n, assayVersion: "test", deterministic: true, concurrency });
    const serial = await run(1);
    const parallel = await run(4);
    assert.equal(serializeSoakReport(parallel.report), serializeSoakReport(serial.report));
    const r = serial.report;
    assert.deepEqual(soakReportProblems(r), []);
    assert.equal(r.summary.thresholds_used.infra_error_count, 0, serializeSoakReport(r));
    assert.ok((r.canaries ?? []).every((c) => c.status === "pass"));
    // Each scenario can only slip one way, so a failed trial names the rule its slip breaks.
    const slipRule: Record<string, string> = {
      explore: "workspace-paths",
      "tidy-up": "call-budget",
      "update-guide": "writes-in-notes",
    };
    const failed = (r.trials ?? []).filter((x) => x.outcome === "fail");
    // Seed 2 makes it slip twice in 8 trials, two different ways (found by running seeds 1..5).
    assert.deepEqual(
      failed.map((x) => x.trial_id),
      ["explore#2", "tidy-up#7"],
    );
    for (const trial of failed) {
      const scenario = (trial.trial_id ?? "").split("#")[0] as string;
      const rule = slipRule[scenario];
      assert.ok(rule, `${trial.trial_id} failed, but its scenario has no slip`);
      const v = (r.violations ?? []).find((x) => x.rule_id === rule);
      assert.ok(
        v?.examples?.some((e) => e.startsWith(`trial ${trial.index} `)),
        `${trial.trial_id}: no ${rule} violation`,
      );
    }
    for (const v of r.violations ?? []) assert.ok(Object.values(slipRule).includes(v.rule_id), v.rule_id);
  });
});

/** Whether `pid` exits within a few seconds. */
async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 50; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      return true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return !existsSync(`/proc/${pid}`);
}
