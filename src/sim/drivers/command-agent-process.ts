import { type ChildProcess, spawn } from "node:child_process";
import { type GroupStop, type ProcessGroups, signalGroup, stopGroup } from "../../lib/process-group.js";

/** After a timeout: SIGTERM to the agent's process group, then SIGKILL this much later. */
export const KILL_GRACE_MS = 2000;
/** After the agent exits: how long its stderr may take to close before the trial ends anyway. */
const DRAIN_MS = 1000;
/** How much of the agent's stderr is kept for the error message of a failed trial. */
const STDERR_TAIL_BYTES = 4096;

export type AgentRun =
  | { kind: "exited"; code: number | null; signal: NodeJS.Signals | null; stderr: string }
  | { kind: "timeout" }
  | { kind: "spawn_failed"; message: string };

/**
 * Run the agent in its own process group (in `live` while it runs). It is done when it exits; its
 * stderr then gets `DRAIN_MS` to close (a server started detached may hold it open forever), and
 * whatever it left running in its group gets SIGTERM. On timeout the whole group gets SIGTERM,
 * then SIGKILL, and the trial ends `KILL_GRACE_MS + DRAIN_MS` later at most.
 */
export function runAgent(
  argv: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
  live: ProcessGroups,
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
    live.add(child);
    let tail = Buffer.alloc(0);
    child.stderr?.on("data", (chunk: Buffer) => {
      tail = Buffer.concat([tail, chunk]);
      if (tail.length > STDERR_TAIL_BYTES) tail = tail.subarray(tail.length - STDERR_TAIL_BYTES);
    });
    let settled = false;
    let timedOut = false;
    let stopping: GroupStop | undefined;
    const timers: NodeJS.Timeout[] = [];
    const finish = (run: AgentRun) => {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      stopping?.cancel();
      child.stderr?.destroy();
      // Whatever the agent left running in its group (a gate it did not close) goes with it.
      signalGroup(child, "SIGTERM");
      live.delete(child);
      done(run);
    };
    timers.push(
      setTimeout(() => {
        timedOut = true;
        stopping = stopGroup(child, { termMs: 0, killMs: KILL_GRACE_MS });
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

function lastLine(text: string): string {
  const lines = text.split("\n").filter((l) => l.trim() !== "");
  return (lines[lines.length - 1] ?? "").trim().slice(0, 500);
}
