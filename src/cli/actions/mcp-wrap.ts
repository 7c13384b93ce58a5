import { access, constants } from "node:fs/promises";
import { dirname } from "node:path";
import type { PinsDoc } from "../../gate/pins.js";
import { ServerProcess } from "../../gate/server-process.js";
import type { WrapCliOptions } from "../mcp-wrap.js";
import { integerOption } from "../options.js";
import { refuseDecisionLogOverInputs } from "./decision-log-path.js";
import { keepYoungGenerationSmall } from "./long-lived-heap.js";

/**
 * `assay mcp wrap`: run the server behind the gate on stdio until either side ends.
 *
 * The server starts while the packs load and compile (each takes a node start-up or more), and
 * is served only once the policy is ready: until then nothing reads its output or writes to it.
 * Inputs that can be checked without loading the policy are checked first, so a wrong path or a
 * bad pins file starts no server; a pack that turns out invalid stops the one started for it.
 */
export async function mcpWrap(server: string[], opts: WrapCliOptions): Promise<number> {
  keepYoungGenerationSmall();
  refuseDecisionLogOverInputs(opts);
  const maxFrameBytes = integerOption("--max-frame-bytes", opts.maxFrameBytes, 1024);
  const [command, ...args] = server;
  const label = command ? basename(command) : "mcp";
  const preflight = await preflightInputs(opts);
  const started = preflight.ok ? ServerProcess.start(command as string, args) : undefined;
  const release = started ? stopOnExit(started) : () => {};
  let setup: Awaited<ReturnType<typeof import("./gate-setup.js").gateSetup>>;
  let runStdioGate: typeof import("../../gate/stdio-gate.js").runStdioGate;
  try {
    const [setupModule, gateModule] = await Promise.all([
      import("./gate-setup.js"),
      import("../../gate/stdio-gate.js"),
    ]);
    runStdioGate = gateModule.runStdioGate;
    setup = await setupModule.gateSetup(opts, label, preflight.pins);
    // Compiling is synchronous: a signal that came meanwhile waits in the loop. It is handled here
    // (stopping the server, which has received nothing) before the gate reads the client, rather
    // than after the gate took over and carried out what the client had already sent.
    if (started) await afterOnePoll();
  } catch (err) {
    release();
    started?.abandon();
    throw err;
  }
  let done: Promise<number>;
  try {
    // The gate takes the server over (its signal handlers, its exit) before this returns.
    done = runStdioGate({
      ...setup,
      command: command as string,
      args,
      maxFrameBytes,
      ...(started ? { server: started } : {}),
    });
  } catch (err) {
    started?.abandon();
    throw err;
  } finally {
    release();
  }
  return done;
}

/**
 * Whether the inputs the gate reads besides the packs' contents are there: every pack and the
 * context readable, the pins file valid (read once, here), the decision log's directory
 * writable. When not, the server is not started early and the usual setup reports the problem.
 */
async function preflightInputs(opts: WrapCliOptions): Promise<{ ok: boolean; pins?: PinsDoc }> {
  const can = (path: string, mode: number) =>
    access(path, mode).then(
      () => true,
      () => false,
    );
  const files = [...opts.policy, ...(opts.context === undefined ? [] : [opts.context])];
  if (!(await Promise.all(files.map((f) => can(f, constants.R_OK)))).every(Boolean)) return { ok: false };
  if (opts.decisionLog !== undefined && !(await can(dirname(opts.decisionLog), constants.W_OK)))
    return { ok: false };
  if (opts.pins === undefined) return { ok: true };
  const { loadPins } = await import("../../gate/pins.js");
  try {
    const pins = await loadPins(opts.pins);
    return pins === undefined ? { ok: true } : { ok: true, pins };
  } catch {
    return { ok: false };
  }
}

/**
 * Until the gate takes the server over, a signal or an exit of this process stops it too (it runs
 * in its own process group, which would outlive us). Returns the function that stops watching.
 */
function stopOnExit(server: ServerProcess): () => void {
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  const onExit = () => server.abandon();
  const onSignal = (sig: NodeJS.Signals) => {
    release();
    server.abandon();
    // As if we had not been listening: the signal's own default ends this process.
    process.kill(process.pid, sig);
  };
  const release = () => {
    process.removeListener("exit", onExit);
    for (const s of signals) process.removeListener(s, onSignal);
  };
  process.once("exit", onExit);
  for (const s of signals) process.once(s, onSignal);
  return release;
}

/** Resolves once the event loop has been through its poll phase, where signals are delivered. */
function afterOnePoll(): Promise<void> {
  // Two immediates: whatever phase this runs in, a poll phase lies between the first and the second.
  return new Promise((resolve) => setImmediate(() => setImmediate(resolve)));
}

function basename(p: string): string {
  return p.split(/[\\/]/).pop() || p;
}
