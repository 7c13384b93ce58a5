import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { GATE_STARTED_EVENT_TYPE } from "../gate/decision-event.js";
import { decisionEventProblem } from "../gate/decision-log.js";
import { AssayError } from "../lib/errors.js";
import type { Bundle } from "./bundle.js";
import type { TrialDriver, TrialInput, TrialTrace } from "./driver.js";
import { type TraceLine, traceLine, traceOf } from "./recorded-trace.js";
import type { CommandDriverSpec } from "./target-types.js";

/** `bin/assay` of this package: two levels up from src/sim/ and from dist/sim/ alike. */
const ASSAY_BIN = fileURLToPath(new URL("../../bin/assay", import.meta.url));
/** After a timeout: SIGTERM to the agent's process group, then SIGKILL this much later. */
const KILL_GRACE_MS = 2000;
/** How much of the agent's stderr is kept for the error message of a failed trial. */
const STDERR_TAIL_BYTES = 4096;
/** After the agent exits: how long its stderr may take to close before the trial ends anyway. */
const DRAIN_MS = 1000;

export interface CommandDriverOptions {
  /** The run's W3C traceparent, handed to every trial as TRACEPARENT. */
  traceparent: string;
  /** How to run `assay` for `assay mcp wrap` (default: this package's bin/assay under this node). */
  assayCommand?: readonly string[];
  /**
   * Where trial directories go, kept after the run (created if missing; must be empty). Default: a
   * temporary directory, removed when the soak ends.
   */
  workDir?: string;
}

/**
 * The `command` driver: runs the user's agent once per trial, its MCP servers behind
 * `assay mcp wrap`, and reads the trial's trace back from the gates' decision log.
 *
 * Per soak, one temporary directory holds the packs (the bundle's own bytes, so the gate judges by
 * exactly the digested policy), the bundle itself when it is a tarball, and one directory per trial:
 * `work/` (the agent's and servers' scratch directory, ASSAY_TRIAL_DIR), `mcp.json`,
 * `context.json` and `decisions.ndjson`. The log lives outside `work/` so nothing the agent can
 * reach through a filesystem server can rewrite its own trace.
 */
export async function createCommandDriver(
  bundle: Bundle,
  options: CommandDriverOptions,
): Promise<TrialDriver> {
  const driver = bundle.target.driver;
  if (driver.kind !== "command") throw new Error("createCommandDriver: not a command bundle");
  const spec = driver.command;
  const keep = options.workDir !== undefined;
  const root = keep
    ? await emptyDir(options.workDir as string)
    : await mkdtemp(join(tmpdir(), "assay-soak-"));
  try {
    const packPaths: string[] = [];
    for (const path of bundle.target.packs) {
      const out = join(root, "packs", path);
      await writeBundleFile(out, bundle.files.get(path));
      packPaths.push(out);
    }
    let bundleDir: string;
    if (bundle.kind === "directory") bundleDir = resolve(bundle.root);
    else {
      bundleDir = join(root, "bundle");
      for (const [path, bytes] of bundle.files) await writeBundleFile(join(bundleDir, path), bytes);
    }
    const workspace = workspaceFiles(bundle, spec);
    const assay = options.assayCommand ?? [process.execPath, ASSAY_BIN];
    const live = new LiveGroups();
    // Agents run in their own sessions, out of reach of the terminal's ^C: an interrupted soak
    // stops them itself, cleans up, then dies of the same signal.
    const onSignal = (sig: NodeJS.Signals) => {
      removeHandlers();
      void live
        .stopAll(500)
        .then(() => (keep ? undefined : rm(root, { recursive: true, force: true })))
        .catch(() => {})
        .finally(() => process.kill(process.pid, sig));
    };
    const onExit = () => live.killAll();
    const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
    for (const sig of signals) process.on(sig, onSignal);
    process.on("exit", onExit);
    const removeHandlers = () => {
      for (const sig of signals) process.off(sig, onSignal);
      process.off("exit", onExit);
    };
    return {
      slow: true,
      trace: (input) =>
        runTrial({
          input,
          spec,
          root,
          bundleDir,
          packPaths,
          workspace,
          assay,
          traceparent: options.traceparent,
          policyDigest: bundle.policy.digest,
          keep,
          live,
        }),
      close: async () => {
        await live.stopAll();
        removeHandlers();
        if (!keep) await rm(root, { recursive: true, force: true }).catch(() => {});
      },
    };
  } catch (err) {
    if (!keep) await rm(root, { recursive: true, force: true });
    throw new AssayError(
      "output_unwritable",
      `cannot prepare the command driver: ${(err as Error).message}`,
      {
        where: root,
        cause: err,
      },
    );
  }
}

interface TrialContext {
  input: TrialInput;
  spec: CommandDriverSpec;
  root: string;
  bundleDir: string;
  packPaths: readonly string[];
  workspace: readonly [string, Buffer][];
  assay: readonly string[];
  traceparent: string;
  policyDigest: string;
  keep: boolean;
  live: LiveGroups;
}

async function runTrial(t: TrialContext): Promise<TrialTrace> {
  const { input, spec } = t;
  const dir = join(t.root, "trials", String(input.index + 1));
  const work = join(dir, "work");
  const logPath = (server: string) => join(dir, `decisions-${server}.ndjson`);
  const configPath = join(dir, "mcp.json");
  const contextPath = join(dir, "context.json");
  const trialId = `${input.scenario.id}#${input.index + 1}`;
  const vars = { ASSAY_BUNDLE_DIR: t.bundleDir, ASSAY_TRIAL_DIR: work };
  try {
    await mkdir(work, { recursive: true });
    for (const [rel, bytes] of t.workspace) await writeBundleFile(join(work, rel), bytes);
    await writeFile(contextPath, JSON.stringify(input.scenario.context));
    const servers = Object.fromEntries(
      Object.entries(spec.mcp_servers).map(([name, server]) => {
        const [cmd, ...args] = t.assay;
        return [
          name,
          {
            command: cmd,
            args: [
              ...args,
              "mcp",
              "wrap",
              ...t.packPaths.flatMap((p) => ["--policy", p]),
              "--decision-log",
              logPath(name),
              "--log-arguments",
              "--label",
              name,
              "--session-id",
              trialId,
              "--context",
              contextPath,
              "--",
              ...server.command.map((a) => substitute(a, vars)),
            ],
            env: { ...server.env },
            cwd: work,
          },
        ];
      }),
    );
    await writeFile(configPath, `${JSON.stringify({ mcpServers: servers }, null, 2)}\n`);
  } catch (err) {
    return infra("driver_error", `cannot prepare the trial: ${(err as Error).message}`);
  }

  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...spec.env,
      ASSAY_SEED: input.seed.toString(),
      ASSAY_SCENARIO: input.scenario.id,
      ASSAY_INPUT: JSON.stringify(input.scenario.input),
      ASSAY_TRIAL: trialId,
      ASSAY_TRIAL_DIR: work,
      ASSAY_BUNDLE_DIR: t.bundleDir,
      ASSAY_MCP_CONFIG: configPath,
      TRACEPARENT: t.traceparent,
    };
    const argv = spec.run.map((a) => substitute(a, vars));
    const ran = await runAgent(argv, t.bundleDir, env, spec.timeout_seconds * 1000, t.live);
    if (ran.kind === "spawn_failed") {
      return infra("spawn_failed", `cannot start \`${argv[0]}\`: ${ran.message}`);
    }
    if (ran.kind === "timeout") {
      return infra("timeout", `the agent ran past its ${spec.timeout_seconds} s timeout and was stopped`);
    }
    if (ran.code !== 0) {
      const how = ran.code === null ? `was killed by ${ran.signal}` : `exited with code ${ran.code}`;
      return infra("agent_exit", `the agent ${how}${ran.stderr ? `: ${ran.stderr}` : ""}`);
    }
    const names = Object.keys(spec.mcp_servers);
    return await readTrialLogs(
      names.map((name) => ({ name, path: logPath(name) })),
      { policyDigest: t.policyDigest, sessionId: trialId },
    );
  } finally {
    // A gate or server that got SIGTERM may still be going; the outcome stands whatever is left.
    if (!t.keep) await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

type AgentRun =
  | { kind: "exited"; code: number | null; signal: NodeJS.Signals | null; stderr: string }
  | { kind: "timeout" }
  | { kind: "spawn_failed"; message: string };

/** Process groups of running agents, so an interrupted soak can stop them all. */
export class LiveGroups {
  private readonly pids = new Set<number>();
  add(pid: number): void {
    this.pids.add(pid);
  }
  delete(pid: number): void {
    this.pids.delete(pid);
  }
  /** SIGTERM to every group, SIGKILL `graceMs` later to any still there. */
  async stopAll(graceMs = KILL_GRACE_MS): Promise<void> {
    const pids = [...this.pids];
    if (pids.length === 0) return;
    for (const pid of pids) killGroup(pid, "SIGTERM");
    await new Promise((r) => setTimeout(r, graceMs));
    for (const pid of pids) killGroup(pid, "SIGKILL");
  }
  /** Synchronous last resort (process exit): SIGKILL every group. */
  killAll(): void {
    for (const pid of this.pids) killGroup(pid, "SIGKILL");
  }
}

/**
 * Run the agent in its own process group. It is done when it exits; its stderr then gets
 * `DRAIN_MS` to close (a server started detached may hold it open forever). On timeout the whole
 * group gets SIGTERM, then SIGKILL, and the trial ends `KILL_GRACE_MS + DRAIN_MS` later at most.
 */
function runAgent(
  argv: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  live: LiveGroups,
): Promise<AgentRun> {
  return new Promise<AgentRun>((done) => {
    let child: ChildProcess;
    try {
      child = spawn(argv[0] as string, argv.slice(1), {
        cwd,
        env,
        stdio: ["ignore", "ignore", "pipe"],
        detached: true,
      });
    } catch (err) {
      done({ kind: "spawn_failed", message: (err as Error).message });
      return;
    }
    const pid = child.pid;
    if (pid !== undefined) live.add(pid);
    let tail = Buffer.alloc(0);
    child.stderr?.on("data", (chunk: Buffer) => {
      tail = Buffer.concat([tail, chunk]);
      if (tail.length > STDERR_TAIL_BYTES) tail = tail.subarray(tail.length - STDERR_TAIL_BYTES);
    });
    let settled = false;
    let timedOut = false;
    const timers: NodeJS.Timeout[] = [];
    const finish = (run: AgentRun) => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      child.stderr?.destroy();
      if (pid !== undefined) {
        // Whatever the agent left running in its group (a gate it did not close) goes with it.
        killGroup(pid, "SIGTERM");
        live.delete(pid);
      }
      done(run);
    };
    timers.push(
      setTimeout(() => {
        timedOut = true;
        if (pid !== undefined) killGroup(pid, "SIGTERM");
        timers.push(setTimeout(() => pid !== undefined && killGroup(pid, "SIGKILL"), KILL_GRACE_MS));
        // Even if nothing ever reports an exit, the trial ends.
        timers.push(setTimeout(() => finish({ kind: "timeout" }), KILL_GRACE_MS + DRAIN_MS));
      }, timeoutMs),
    );
    child.once("error", (err: NodeJS.ErrnoException) => {
      finish({ kind: "spawn_failed", message: err.code ?? err.message });
    });
    child.once("exit", (code, signal) => {
      const result = (): AgentRun =>
        timedOut
          ? { kind: "timeout" }
          : { kind: "exited", code, signal, stderr: lastLine(tail.toString("utf8")) };
      // The exit decides the outcome; stderr gets a moment to deliver its last lines.
      if (child.stderr === null || child.stderr.closed) finish(result());
      else {
        child.stderr.once("close", () => finish(result()));
        timers.push(setTimeout(() => finish(result()), DRAIN_MS));
      }
    });
  });
}

/**
 * The trial's trace from the gates' decision logs, one per server. Every record must be a valid
 * gate record (schemas/decision-event.schema.json) of this trial's session, decided by the bundle's
 * policy, from the gate of the server whose log it is in; at least one gate must have started.
 * Anything else is no trustworthy trace: an infra error, never a pass.
 *
 * Calls from several servers are merged by the time their gate recorded them (then by server
 * name, then in log order). A tools/call a gate refused before any rule could run (no usable tool
 * name) and a frame it could not read are the agent's failures, judged like violations.
 */
export async function readTrialLogs(
  logs: readonly { name: string; path: string }[],
  expect: { policyDigest: string; sessionId: string },
): Promise<TrialTrace> {
  const entries: { time: string; server: string; order: number; line: TraceLine }[] = [];
  let started = 0;
  for (const { name, path } of [...logs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    let text: string;
    try {
      text = await readFile(path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") continue; // this server was not used
      return infra(
        "gate_error",
        `cannot read the decision log of \`${name}\`: ${(err as NodeJS.ErrnoException).code}`,
      );
    }
    const where = `decision log of \`${name}\``;
    if (text !== "" && !text.endsWith("\n"))
      return infra("gate_error", `the ${where} ends in a cut-off line`);
    const source = `urn:assay:mcp-gate:${encodeURIComponent(name)}`;
    const lines = text.split("\n");
    for (const [i, raw] of lines.entries()) {
      if (raw === "") continue;
      const at = `${where}, line ${i + 1}`;
      let record: Record<string, unknown>;
      try {
        record = JSON.parse(raw);
      } catch {
        return infra("gate_error", `${at}: not JSON`);
      }
      const problem = decisionEventProblem(record);
      if (problem !== undefined) return infra("gate_error", `${at}: not a gate record: ${problem}`);
      const data = record.data as { session_id: string; policy_digest?: string };
      if (record.source !== source) {
        return infra("gate_error", `${at}: written by \`${String(record.source)}\`, not this server's gate`);
      }
      if (data.session_id !== expect.sessionId) {
        return infra(
          "gate_error",
          `${at}: session \`${data.session_id}\`, not this trial's \`${expect.sessionId}\``,
        );
      }
      if (data.policy_digest !== undefined && data.policy_digest !== expect.policyDigest) {
        return infra(
          "gate_error",
          `${at}: decided by policy ${data.policy_digest}, not the bundle's ${expect.policyDigest}`,
        );
      }
      if (record.type === GATE_STARTED_EVENT_TYPE) {
        started++;
        continue;
      }
      let line: TraceLine;
      try {
        line = traceLine(record, at);
      } catch (err) {
        return infra("gate_error", (err as Error).message);
      }
      entries.push({ time: String(record.time), server: name, order: i, line });
    }
  }
  if (logs.length > 0 && started === 0) {
    return infra(
      "gate_not_used",
      "no gate started: the agent did not start any server of its MCP config (ASSAY_MCP_CONFIG), so none of its calls were checked",
    );
  }
  // Sorted by time (ISO 8601 UTC, fixed width: string order is time order), then server, then line.
  entries.sort((a, b) =>
    a.time !== b.time
      ? a.time < b.time
        ? -1
        : 1
      : a.server !== b.server
        ? a.server < b.server
          ? -1
          : 1
        : a.order - b.order,
  );
  return traceOf(entries.map((e) => e.line));
}

/** `dir`, created if missing; refused unless empty (a kept work dir is never written over). */
async function emptyDir(dir: string): Promise<string> {
  try {
    await mkdir(dir, { recursive: true });
    if ((await readdir(dir)).length > 0) {
      throw new AssayError("usage", "--work-dir must be an empty or new directory", { where: dir });
    }
  } catch (err) {
    if (err instanceof AssayError) throw err;
    throw new AssayError(
      "output_unwritable",
      `cannot use the work directory: ${(err as NodeJS.ErrnoException).code}`,
      { where: dir, cause: err },
    );
  }
  return resolve(dir);
}

/** The workspace's files, relative to the workspace directory. */
function workspaceFiles(bundle: Bundle, spec: CommandDriverSpec): [string, Buffer][] {
  if (spec.workspace === null) return [];
  const prefix = spec.workspace === "" ? "" : `${spec.workspace}/`;
  return [...bundle.files]
    .filter(([path]) => path.startsWith(prefix))
    .map(([path, bytes]) => [path.slice(prefix.length), bytes]);
}

async function writeBundleFile(path: string, bytes: Buffer | undefined): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, bytes ?? Buffer.alloc(0));
}

/** `${NAME}` → its value, for the names in `vars` only; anything else is left as written. */
function substitute(arg: string, vars: Record<string, string>): string {
  return arg.replace(/\$\{([A-Z_]+)\}/g, (whole, name: string) => vars[name] ?? whole);
}

function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch {
    // ESRCH: the group is already gone.
  }
}

function lastLine(text: string): string {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  return (lines[lines.length - 1] ?? "").trim().slice(0, 500);
}

function infra(error_kind: string, error_message: string): TrialTrace {
  return { ok: false, error_kind, error_message };
}
