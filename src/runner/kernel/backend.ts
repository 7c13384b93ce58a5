import type { Cgroup } from "../cgroup.js";
import { cgroup2Mount } from "../cgroup.js";
import type { KernelCaptureFacts, RawKernelEvent } from "../contract.js";
import { ensureTracefs } from "../tracefs.js";
import { startBpftrace } from "./bpftrace.js";
import { reasonLine, runTool } from "./run-tool.js";
import { startStrace, straceUnusable } from "./strace.js";
import { type KernelBackend, KernelBackendUnavailable } from "./unavailable.js";

export { type KernelBackend, KernelBackendUnavailable } from "./unavailable.js";

/** What a finished capture hands back: its events, streamed from disk, and the facts about them. */
export interface KernelCaptureResult {
  /** In arrival order, one by one or in batches; read once (it streams a file in the capture's scratch directory). */
  events: AsyncIterable<RawKernelEvent | readonly RawKernelEvent[]>;
  facts: KernelCaptureFacts;
  /** What went wrong in the backend's own stop, a line each, for the runner's log (the facts count it, but do not say why). */
  warnings: readonly string[];
}

/**
 * A kernel capture in progress. Run the agent as `command(argv)` inside the cgroup
 * (`cgroup.wrap(capture.command(argv))`), wait for it to exit, then call `finish()` once.
 */
export interface KernelCapture {
  readonly backend: KernelBackend;
  /** The argv to run for the agent's `argv` (strace runs the agent itself; bpftrace watches from outside). */
  command(argv: readonly string[]): string[];
  /** After the agent exited: stop capturing and return what was seen. Idempotent. */
  finish(): Promise<KernelCaptureResult>;
  /**
   * Stop without results (the agent could not be started, the runner was interrupted); safe to
   * call after finish, and during it (the capture is then killed at once and finish settles).
   */
  abort(): Promise<void>;
}

/** What a capture needs besides the backend. */
export interface KernelCaptureOptions {
  cgroup: Cgroup;
  /** A directory of this capture's own, for the raw output (it can be large). */
  scratchDir: string;
  /** bpftrace only: how long it keeps reading after the agent exited (default 100 ms). */
  drainMs?: number;
}

/**
 * Start capturing the cgroup's opens, connects and execs with `backend`; resolves once the capture
 * is watching (bpftrace: every probe attached). Rejects with KernelBackendUnavailable (code
 * `runner_kernel_unavailable`, message `kernel_backend_unavailable: <reason>`) when the backend
 * cannot run here. bpftrace mounts tracefs first if it is missing (see ensureTracefs).
 */
export async function startKernelCapture(
  backend: KernelBackend,
  opts: KernelCaptureOptions,
): Promise<KernelCapture> {
  if (backend === "strace") return startStrace({ scratchDir: opts.scratchDir });
  const tracefs = await ensureTracefs();
  if (!tracefs.available)
    throw new KernelBackendUnavailable("bpftrace", `tracefs unavailable: ${tracefs.reason}`);
  return startBpftrace({
    cgroup: opts.cgroup,
    scratchDir: opts.scratchDir,
    ...(opts.drainMs === undefined ? {} : { drainMs: opts.drainMs }),
  });
}

/** Whether a backend can run here, and if not, why (one line). */
export interface BackendProbe {
  backend: KernelBackend;
  available: boolean;
  reason?: string;
}

/**
 * Which backends can run here, in order of preference (bpftrace, then strace), each tried for real:
 * bpftrace attaches a tracepoint probe and reads the `cgroup` builtin (a second or two: it compiles
 * with LLVM), strace traces `sh -c :`. Probing bpftrace mounts tracefs if it is missing.
 */
export async function probeKernelBackends(): Promise<BackendProbe[]> {
  const [bpftrace, strace] = await Promise.all([bpftraceUnusable(), straceUnusable()]);
  return [probe("bpftrace", bpftrace), probe("strace", strace)];
}

function probe(backend: KernelBackend, reason: string | null): BackendProbe {
  return reason === null ? { backend, available: true } : { backend, available: false, reason };
}

async function bpftraceUnusable(): Promise<string | null> {
  if ((await cgroup2Mount()) === null) return "no cgroup2 mount (bpftrace filters on the agent's cgroup)";
  const tracefs = await ensureTracefs();
  if (!tracefs.available) return `tracefs unavailable: ${tracefs.reason}`;
  const run = await runTool(
    "bpftrace",
    [
      "-e",
      'tracepoint:syscalls:sys_enter_openat /cgroup == 0/ { } BEGIN { printf("assay-probe %d\\n", cgroup); exit(); }',
    ],
    { timeoutMs: 60_000 },
  );
  if (run.spawnError !== null)
    return run.spawnError.code === "ENOENT"
      ? "bpftrace is not installed"
      : `cannot run bpftrace: ${run.spawnError.code}`;
  if (run.timedOut) return "bpftrace did not attach within 60 s";
  if (!/^assay-probe \d+$/m.test(run.stdout))
    return `bpftrace failed to attach: ${reasonLine(run.stderr, /RLIMIT_MEMLOCK/) || `exit ${run.code ?? run.signal}`}`;
  return null;
}
