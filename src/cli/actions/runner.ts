import { AssayError } from "../../lib/errors.js";
import { refuseOverlappingOutputs } from "../../lib/output-paths.js";
import { printJson, reportError } from "../io.js";
import { integerOption, secondsAsMsOption } from "../options.js";

export interface CaptureCli {
  out: string;
  runId?: string;
  policy?: string[];
  mcpConfig?: string;
  kernel: "auto" | "bpftrace" | "strace" | "off";
  timeout?: string;
  agentShim: string;
  work?: string;
  workFrom?: string;
  drainMs: string;
  json?: boolean;
}

export interface DiffCli {
  out?: string;
}

export interface ProofCli {
  out: string;
  kernel: "auto" | "bpftrace" | "strace";
}

const SHIM = /^[a-z0-9][a-z0-9-]*$/;

/** The longest delay a Node timer holds (about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** `assay runner capture`. */
export async function runnerCapture(agent: string[], opts: CaptureCli): Promise<number> {
  const drainMs = integerOption("--drain-ms", opts.drainMs, 0, MAX_TIMER_MS);
  // Node's timers hold at most 2^31 - 1 ms; a longer one fires at once (with a warning).
  const timeoutMs =
    opts.timeout === undefined ? undefined : secondsAsMsOption("--timeout", opts.timeout, MAX_TIMER_MS);
  if (!SHIM.test(opts.agentShim))
    throw new AssayError("usage", `--agent-shim must match [a-z0-9][a-z0-9-]*, got \`${opts.agentShim}\``);
  const { capture, EXIT_KERNEL_UNSUPPORTED } = await import("../../runner/capture.js");
  try {
    const result = await capture({
      out: opts.out,
      ...(opts.runId === undefined ? {} : { runId: opts.runId }),
      policy: opts.policy ?? [],
      ...(opts.mcpConfig === undefined ? {} : { mcpConfig: opts.mcpConfig }),
      kernel: opts.kernel,
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      agentShim: opts.agentShim,
      ...(opts.work === undefined ? {} : { workDir: opts.work }),
      ...(opts.workFrom === undefined ? {} : { workFrom: opts.workFrom }),
      command: agent,
      drainMs,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    const h = result.health;
    process.stderr.write(
      `runner: ${result.out}: run ${result.runId}: kernel_layer=${h.kernel_layer} ringbuf_drops=${h.ringbuf_drops} ` +
        `policy_layer=${h.policy_layer} sdk_layer=${h.sdk_layer} cgroup_correlation=${h.cgroup_correlation}; ` +
        `agent exit ${result.exitCode}\n`,
    );
    if (opts.json) printJson(h);
    return result.exitCode;
  } catch (err) {
    if (err instanceof AssayError && err.code === "runner_kernel_unavailable") {
      reportError(err);
      return EXIT_KERNEL_UNSUPPORTED;
    }
    throw err;
  }
}

/** `assay runner diff`. */
export async function runnerDiff(base: string, head: string, opts: DiffCli): Promise<number> {
  // Either capture may be a folder (nothing may be written inside it) or an archive.
  const captures = [
    { path: base, option: "base capture" },
    { path: head, option: "head capture" },
  ];
  refuseOverlappingOutputs([{ path: opts.out, option: "--out" }], captures, captures);
  const { diffCaptures } = await import("../../runner/diff-captures.js");
  const { diffText } = await import("../../runner/diff.js");
  const { writeFileAtomic } = await import("../../lib/atomic-write.js");
  const { diff, exitCode } = await diffCaptures(base, head);
  const text = diffText(diff);
  if (opts.out !== undefined) await writeFileAtomic(opts.out, text);
  else process.stdout.write(text);
  if (diff.status !== "clean")
    process.stderr.write(
      `runner diff: status ${diff.status}${diff.notes.length > 0 ? `: ${diff.notes.join("; ")}` : ""}\n`,
    );
  return exitCode;
}

/** `assay runner proof`. */
export async function runnerProof(opts: ProofCli): Promise<number> {
  const { runProof } = await import("../../runner/proof.js");
  const { EXIT_KERNEL_UNSUPPORTED } = await import("../../runner/capture.js");
  try {
    return await runProof({
      out: opts.out,
      kernel: opts.kernel,
      log: (line) => process.stderr.write(`${line}\n`),
    });
  } catch (err) {
    if (err instanceof AssayError && err.code === "runner_kernel_unavailable") {
      reportError(err);
      return EXIT_KERNEL_UNSUPPORTED;
    }
    throw err;
  }
}
