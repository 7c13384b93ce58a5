import { type ChildProcess, spawn } from "node:child_process";
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { constants, platform, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { AssayError } from "../lib/errors.js";
import { ASSAY_BIN } from "../lib/package-info.js";
import { ProcessGroups, signalGroup, stopGroupsOnSignals } from "../lib/process-group.js";
import { compilePacks } from "../policy/compile-packs.js";
import { agentEnv, injectedKeys } from "./agent-env.js";
import { checkArchiveTarget, writeArchive } from "./archive.js";
import { buildArtifacts } from "./build-artifacts.js";
import { captureLock } from "./capture-lock.js";
import { type Cgroup, createCgroup } from "./cgroup.js";
import {
  type ObservationHealth,
  RUNNER_SCHEMA,
  type RunFinishedEvent,
  type RunStartedEvent,
  SDK_ENV,
} from "./contract.js";
import { decisionLogPath, gatedMcpConfig, type McpServers, readMcpServers } from "./gated-mcp-config.js";
import { type KernelCapture, type KernelCaptureResult, startKernelCapture } from "./kernel/backend.js";
import { runIdFor } from "./run-id.js";
import { ensureTracefs } from "./tracefs.js";

export type KernelMode = "auto" | "bpftrace" | "strace" | "off";

export interface CaptureOptions {
  /** A directory, or a file ending in `.tar.gz`. */
  out: string;
  runId?: string;
  policy: readonly string[];
  mcpConfig?: string;
  kernel: KernelMode;
  timeoutMs?: number;
  /** What integrates the agent's SDK events (`run_started.agent_shim`); `none` by default. */
  agentShim: string;
  /** The agent's work directory (ASSAY_RUNNER_WORK_DIR; not its cwd); default `<tmp>/assay-runner-<run id>/work`. Emptied first. */
  workDir?: string;
  /** Copied into the work directory before the agent starts. */
  workFrom?: string;
  command: readonly string[];
  /** How long the kernel backend keeps reading after the agent exits. */
  drainMs?: number;
  /** Progress lines (stderr). */
  log?: (line: string) => void;
}

export interface CaptureResult {
  runId: string;
  out: string;
  health: ObservationHealth;
  /** The runner's exit code: the agent's own, 128 + signal, 1 when unknown, 40 when the kernel backend asked for cannot run. */
  exitCode: number;
}

/** How long what the agent started may take to exit after it (its gates flush and close). */
const LEFTOVER_GRACE_MS = 2000;

/** Exit code when the kernel capture asked for cannot be set up (contract §8): skipped, never passed. */
export const EXIT_KERNEL_UNSUPPORTED = 40;

/**
 * Run an agent once and record what it did in three layers: kernel (its cgroup's opens, connects
 * and execs), policy (the decisions of the gates in front of its MCP servers) and SDK (the tool
 * calls it reports itself), normalized into the runner's v0 archive (docs/runner.md).
 */
export async function capture(opts: CaptureOptions): Promise<CaptureResult> {
  const log = opts.log ?? (() => {});
  if (opts.command.length === 0) throw new AssayError("usage", "give the agent command after `--`");
  if (opts.mcpConfig !== undefined && opts.policy.length === 0)
    throw new AssayError("usage", "--mcp-config needs --policy: the packs its servers' gates decide with");
  if (opts.mcpConfig === undefined && opts.policy.length > 0)
    throw new AssayError("usage", "--policy needs --mcp-config: the servers to put behind the gate");
  const policy = opts.policy.length > 0 ? await compilePacks(opts.policy) : undefined;
  const mcpText = opts.mcpConfig === undefined ? null : await readText(opts.mcpConfig, "MCP config");
  const runId = runIdFor(opts.runId, [opts.command, policy?.digest ?? null, mcpText, opts.agentShim]);

  // Refused now, not after the agent ran: an output that exists.
  await checkArchiveTarget(opts.out);
  const base = join(tmpdir(), `assay-runner-${runId}`);
  const work = resolve(opts.workDir ?? join(base, "work"));
  const scratch = join(base, "scratch");
  await mkdir(base, { recursive: true });
  const unlock = await captureLock(base, runId);
  const groups = new ProcessGroups();
  let cgroup: Cgroup | undefined;
  let kernelCapture: KernelCapture | undefined;
  let written = false;
  const releaseSignals = stopGroupsOnSignals(groups, {
    graceMs: 1000,
    cleanup: async () => {
      await kernelCapture?.abort().catch(() => {});
      await cgroup?.remove().catch(() => {});
      await rm(base, { recursive: true, force: true }).catch(() => {});
    },
  });
  try {
    await claimWorkDir(base, work, opts.workDir !== undefined);
    // Same paths on every run of the same id: they appear in the kernel layer and the surface.
    await rm(work, { recursive: true, force: true });
    await rm(scratch, { recursive: true, force: true });
    await mkdir(work, { recursive: true });
    await mkdir(join(scratch, "kernel"), { recursive: true });
    if (opts.workFrom !== undefined) await copyWorkFiles(opts.workFrom, work);

    const injected: Record<string, string> = {
      ASSAY_RUNNER_WORK_DIR: work,
      [SDK_ENV.log]: join(scratch, "sdk-events.ndjson"),
      [SDK_ENV.runId]: runId,
      [SDK_ENV.schema]: RUNNER_SCHEMA.sdkEvent,
    };
    let servers: McpServers | undefined;
    if (opts.mcpConfig !== undefined) {
      servers = await readMcpServers(opts.mcpConfig, work);
      const config = gatedMcpConfig(servers, {
        assay: [process.execPath, ASSAY_BIN],
        packPaths: opts.policy.map((p) => resolve(p)),
        runId,
        decisionLog: (i) => decisionLogPath(scratch, i),
        workDir: work,
      });
      const configPath = join(scratch, "mcp.json");
      await writeFile(configPath, `${JSON.stringify(config, null, 2)}\n`);
      injected.ASSAY_MCP_CONFIG = configPath;
    }

    const kernel = await startKernel(opts, runId, join(scratch, "kernel"), log);
    cgroup = kernel.cgroup;
    kernelCapture = kernel.capture;

    const argv = kernel.capture ? kernel.capture.command([...opts.command]) : [...opts.command];
    const launched = cgroup ? cgroup.wrap(argv) : argv;
    const env = agentEnv(process.env, injected);
    const started: RunStartedEvent = {
      schema: RUNNER_SCHEMA.runEvent,
      run_id: runId,
      seq: 0,
      type: "run_started",
      agent_shim: opts.agentShim,
      command: [...opts.command],
      env_keys: injectedKeys({ ...injected, LANG: "C", LC_ALL: "C" }),
      window_elapsed_ms: 0,
    };
    const t0 = process.hrtime.bigint();
    // The agent runs where the runner was started, as under `strace` or `time`, so relative paths in
    // its command mean what the user meant; its files go to the work directory (ASSAY_RUNNER_WORK_DIR).
    let exit: AgentExit;
    try {
      exit = await runAgent(launched, { cwd: process.cwd(), env, timeoutMs: opts.timeoutMs, groups, log });
    } catch (err) {
      await kernel.capture?.abort().catch(() => {});
      kernelCapture = undefined;
      throw err;
    }
    const finished: RunFinishedEvent = {
      schema: RUNNER_SCHEMA.runEvent,
      run_id: runId,
      seq: 1,
      type: "run_finished",
      exit_code: exit.code,
      signal: exit.signal,
      success: exit.code === 0,
      window_elapsed_ms: Math.round(Number(process.hrtime.bigint() - t0) / 1e6),
    };

    // What the agent started (its gates and servers) shuts down after it; what is still running
    // after LEFTOVER_GRACE_MS is killed. Both before the kernel capture stops, so that every event
    // of the cgroup falls inside the capture window (one after it would count as lost).
    if (cgroup) {
      if (!(await cgroup.waitEmpty(LEFTOVER_GRACE_MS)))
        log(`runner: processes of the agent still ran ${LEFTOVER_GRACE_MS} ms after it exited: killed`);
      await cgroup.remove();
    }
    let kernelResult: KernelCaptureResult | null = null;
    if (kernel.capture) {
      kernelResult = await kernel.capture.finish();
      for (const w of kernelResult.warnings) log(`runner: ${w}`);
    }
    cgroup = undefined;

    const built = await buildArtifacts({
      runId,
      scratch,
      kernel: kernelResult,
      kernelAbsentReason: kernel.absentReason,
      decisionLogs: servers ? servers.names.map((_, i) => decisionLogPath(scratch, i)) : [],
      sdkLog: injected[SDK_ENV.log] as string,
      agentShim: opts.agentShim,
      events: [started, finished],
    });
    await mkdir(dirname(resolve(opts.out)), { recursive: true });
    await writeArchive(opts.out, built.files);
    written = true;
    const exitCode = exit.code ?? (exit.signal !== null ? 128 + exit.signal : 1);
    return { runId, out: opts.out, health: built.health, exitCode };
  } finally {
    releaseSignals();
    await kernelCapture?.abort().catch(() => {});
    await groups.stopAll(500).catch(() => {});
    await cgroup?.remove().catch(() => {});
    if (written) {
      // The archive holds what the run produced: the default work directory and scratch go.
      await rm(scratch, { recursive: true, force: true }).catch(() => {});
      if (opts.workDir === undefined) await rm(work, { recursive: true, force: true }).catch(() => {});
    } else if (await exists(scratch)) {
      // Nothing was written: what the layers were made from stays, for whoever must find out why.
      log(`runner: no archive written; the raw layers are kept in ${scratch}`);
    }
    await unlock();
    if (written && opts.workDir === undefined)
      await rm(base, { recursive: true, force: true }).catch(() => {});
  }
}

/**
 * A `--work` directory is emptied before every run: the runner empties only one it made itself
 * (recorded in `<base>/work-dir`), or one that is empty or missing, never a directory of the
 * user's that holds files.
 */
async function claimWorkDir(base: string, work: string, given: boolean): Promise<void> {
  const record = join(base, "work-dir");
  if (given && (await readFile(record, "utf8").catch(() => "")) !== work) {
    const entries = await readdir(work).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return [];
      throw new AssayError("input_unreadable", `cannot read --work: ${err.code}`, { where: work });
    });
    if (entries.length > 0)
      throw new AssayError(
        "usage",
        "--work must be empty or missing (it is emptied before every run), or one this run id made before",
        { where: work },
      );
  }
  await writeFile(record, work);
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

interface KernelStart {
  capture?: KernelCapture;
  cgroup?: Cgroup;
  /** Why there is no kernel layer, for the health notes. */
  absentReason?: string;
}

/**
 * The kernel backend: the one asked for, or with `auto` bpftrace, then strace, then none. Under
 * `auto` a backend that cannot run is a note in the health document; asked for by name, it ends
 * the capture with exit 40 (skipped, never passed) before the agent starts.
 */
async function startKernel(
  opts: CaptureOptions,
  runId: string,
  scratchDir: string,
  log: (line: string) => void,
): Promise<KernelStart> {
  if (opts.kernel === "off") return { absentReason: "kernel capture off (--kernel off)" };
  if (platform() !== "linux")
    return unsupportedOr(opts, `kernel capture needs Linux, not ${platform()}`, log);
  let cgroup: Cgroup;
  try {
    cgroup = await createCgroup(runId);
  } catch (err) {
    return unsupportedOr(opts, reasonOf(err), log);
  }
  const tried: string[] = [];
  const backends = opts.kernel === "auto" ? (["bpftrace", "strace"] as const) : ([opts.kernel] as const);
  for (const backend of backends) {
    try {
      if (backend === "bpftrace") {
        const tracefs = await ensureTracefs();
        if (!tracefs.available) throw new Error(`tracefs unavailable: ${tracefs.reason}`);
        if (tracefs.mounted) log("runner: mounted tracefs at /sys/kernel/tracing");
      }
      const capture = await startKernelCapture(backend, {
        cgroup,
        scratchDir,
        ...(opts.drainMs === undefined ? {} : { drainMs: opts.drainMs }),
      });
      if (tried.length > 0) log(`runner: kernel backend ${backend} (${tried.join("; ")})`);
      return { capture, cgroup };
    } catch (err) {
      tried.push(`${backend}: ${reasonOf(err)}`);
    }
  }
  await cgroup.remove().catch(() => {});
  return unsupportedOr(opts, tried.join("; "), log);
}

function unsupportedOr(opts: CaptureOptions, reason: string, log: (line: string) => void): KernelStart {
  if (opts.kernel === "auto") {
    log(`runner: no kernel layer: ${reason}`);
    return { absentReason: reason };
  }
  throw new AssayError("runner_kernel_unavailable", `--kernel ${opts.kernel} cannot run here: ${reason}`);
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

interface AgentExit {
  code: number | null;
  /** The signal number that ended it, or null. */
  signal: number | null;
}

/** Run the agent in a process group of its own; on timeout stop the group (SIGTERM, then SIGKILL). */
function runAgent(
  argv: readonly string[],
  o: {
    cwd: string;
    env: Record<string, string>;
    timeoutMs: number | undefined;
    groups: ProcessGroups;
    log: (line: string) => void;
  },
): Promise<AgentExit> {
  return new Promise((resolvePromise, reject) => {
    const [command, ...args] = argv;
    let child: ChildProcess;
    try {
      // The agent's output goes to our stderr: stdout is the runner's own.
      child = spawn(command as string, args, {
        cwd: o.cwd,
        env: o.env,
        stdio: ["ignore", 2, 2],
        detached: true,
      });
    } catch (err) {
      reject(new AssayError("runner_capture_failed", `cannot start the agent: ${reasonOf(err)}`));
      return;
    }
    o.groups.add(child);
    let timer: NodeJS.Timeout | undefined;
    if (o.timeoutMs !== undefined) {
      timer = setTimeout(() => {
        o.log(`runner: the agent ran past --timeout (${o.timeoutMs} ms): stopping it`);
        signalGroup(child, "SIGTERM");
        setTimeout(() => signalGroup(child, "SIGKILL"), 2000).unref();
      }, o.timeoutMs);
    }
    child.once("error", (err) => {
      if (timer) clearTimeout(timer);
      o.groups.delete(child);
      reject(
        new AssayError("runner_capture_failed", `cannot start the agent \`${command}\`: ${err.message}`),
      );
    });
    child.once("exit", (code, signal) => {
      if (timer) clearTimeout(timer);
      resolvePromise({ code, signal: signal === null ? null : (constants.signals[signal] ?? null) });
    });
  });
}

async function readText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    throw new AssayError(
      "input_unreadable",
      `cannot read the ${what}: ${(err as NodeJS.ErrnoException).code}`,
      {
        where: file,
      },
    );
  }
}

async function copyWorkFiles(from: string, to: string): Promise<void> {
  const s = await stat(from).catch(() => undefined);
  if (!s?.isDirectory())
    throw new AssayError("input_unreadable", "--work-from must be a readable directory", { where: from });
  await cp(from, to, { recursive: true });
}
