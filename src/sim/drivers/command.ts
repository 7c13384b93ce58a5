import { writeFile } from "node:fs/promises";
import { ASSAY_BIN } from "../../lib/package-info.js";
import { ProcessGroups, stopGroupsOnSignals } from "../../lib/process-group.js";
import type { Bundle } from "../target/load.js";
import type { CommandDriverSpec } from "../target/types.js";
import { KILL_GRACE_MS, runAgent } from "./command-agent-process.js";
import { readTrialLogs } from "./command-gate-logs.js";
import { gatedMcpConfig, substitute } from "./command-mcp-config.js";
import {
  type CommandWorkspace,
  removeDir,
  stageTrial,
  stageWorkspace,
  trialPaths,
} from "./command-workspace.js";
import { infraError, type TrialDriver, type TrialInput, type TrialTrace } from "./driver.js";

/** After an interrupt (SIGINT, SIGTERM, SIGHUP): from SIGTERM to SIGKILL of the agents' groups. */
const INTERRUPT_GRACE_MS = 500;

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
 * Per soak, one work directory (command-workspace.ts) holds the packs, the bundle when it is a
 * tarball, and one directory per trial: `work/` (the agent's and servers' scratch directory,
 * ASSAY_TRIAL_DIR), `mcp.json` (command-mcp-config.ts), `context.json` and one decision log per
 * server (command-gate-logs.ts reads them back).
 *
 * Agents run in process groups of their own (command-agent-process.ts), in sessions out of reach
 * of the terminal's ^C. From creation until `close()`, and only then, a SIGINT, SIGTERM or SIGHUP
 * stops them, removes a temporary work directory, then ends the process by the same signal
 * (unless the host handles it), and a process exit kills them.
 */
export async function createCommandDriver(
  bundle: Bundle,
  options: CommandDriverOptions,
): Promise<TrialDriver> {
  const driver = bundle.target.driver;
  if (driver.kind !== "command") throw new Error("createCommandDriver: not a command bundle");
  const spec = driver.command;
  const ws = await stageWorkspace(bundle, spec, options.workDir);
  const assay = options.assayCommand ?? [process.execPath, ASSAY_BIN];
  const live = new ProcessGroups();
  const removeWorkspace = () => (ws.keep ? Promise.resolve() : removeDir(ws.root));
  const releaseSignals = stopGroupsOnSignals(live, {
    graceMs: INTERRUPT_GRACE_MS,
    cleanup: removeWorkspace,
  });
  return {
    slow: true,
    trace: (input) =>
      runTrial({
        input,
        spec,
        ws,
        assay,
        traceparent: options.traceparent,
        policyDigest: bundle.policy.digest,
        live,
      }),
    close: async () => {
      try {
        await live.stopAll(KILL_GRACE_MS);
      } finally {
        releaseSignals();
        await removeWorkspace();
      }
    },
  };
}

interface TrialContext {
  input: TrialInput;
  spec: CommandDriverSpec;
  ws: CommandWorkspace;
  assay: readonly string[];
  traceparent: string;
  policyDigest: string;
  live: ProcessGroups;
}

async function runTrial(t: TrialContext): Promise<TrialTrace> {
  const { input, spec, ws } = t;
  const paths = trialPaths(ws, input.index);
  const trialId = `${input.scenario.id}#${input.index + 1}`;
  const vars = { ASSAY_BUNDLE_DIR: ws.bundleDir, ASSAY_TRIAL_DIR: paths.work };
  try {
    await stageTrial(ws, paths, input.scenario.context);
    const config = gatedMcpConfig(spec.mcp_servers, {
      assay: t.assay,
      packPaths: ws.packPaths,
      log: paths.log,
      sessionId: trialId,
      context: paths.context,
      work: paths.work,
      vars,
    });
    await writeFile(paths.config, `${JSON.stringify(config, null, 2)}\n`);
  } catch (err) {
    return infraError("driver_error", `cannot prepare the trial: ${(err as Error).message}`);
  }

  try {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...spec.env,
      ASSAY_SEED: input.seed.toString(),
      ASSAY_SCENARIO: input.scenario.id,
      ASSAY_INPUT: JSON.stringify(input.scenario.input),
      ASSAY_TRIAL: trialId,
      ASSAY_TRIAL_DIR: paths.work,
      ASSAY_BUNDLE_DIR: ws.bundleDir,
      ASSAY_MCP_CONFIG: paths.config,
      TRACEPARENT: t.traceparent,
    };
    const argv = spec.run.map((a) => substitute(a, vars));
    const ran = await runAgent(argv, ws.bundleDir, env, spec.timeout_seconds * 1000, t.live);
    if (ran.kind === "spawn_failed") {
      return infraError("spawn_failed", `cannot start \`${argv[0]}\`: ${ran.message}`);
    }
    if (ran.kind === "timeout") {
      return infraError(
        "timeout",
        `the agent ran past its ${spec.timeout_seconds} s timeout and was stopped`,
      );
    }
    if (ran.code !== 0) {
      const how = ran.code === null ? `was killed by ${ran.signal}` : `exited with code ${ran.code}`;
      return infraError("agent_exit", `the agent ${how}${ran.stderr ? `: ${ran.stderr}` : ""}`);
    }
    return await readTrialLogs(
      Object.keys(spec.mcp_servers).map((name) => ({ name, path: paths.log(name) })),
      { policyDigest: t.policyDigest, sessionId: trialId },
    );
  } finally {
    // A gate or server that got SIGTERM may still be going; the outcome stands whatever is left.
    if (!ws.keep) await removeDir(paths.dir);
  }
}
