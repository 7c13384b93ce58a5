import type { ChildProcess } from "node:child_process";

/**
 * Supervising a child started in a process group of its own (`spawn(..., { detached: true })`),
 * so that stopping it also stops what it started (`npx`, shell wrappers, an agent's MCP gates).
 * One supervisor for the stdio gate's server and the command driver's agents.
 */

/** How long a stop waits before each escalation, in milliseconds. */
export interface StopGrace {
  /** From closing the child's input to SIGTERM. */
  termMs: number;
  /** From SIGTERM to SIGKILL. */
  killMs: number;
}

export const DEFAULT_STOP_GRACE: Readonly<StopGrace> = Object.freeze({ termMs: 2000, killMs: 2000 });

/** The signals that ask a command-line program to stop. */
export const STOP_SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/** Whether the child itself has exited (what it started in its group may still run). */
export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/**
 * Signal the child's whole process group, falling back to the child alone (a child not leading a
 * group). A child that never started, or a group already gone, is left alone.
 */
export function signalGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    try {
      // A no-op once the child has exited, so a reused pid is never signalled.
      child.kill(sig);
    } catch {
      // Already gone.
    }
  }
}

/** A stop under way; `cancel()` drops the signals not sent yet. */
export interface GroupStop {
  cancel(): void;
}

/**
 * Stop a child and its process group, asking first: close its input, then SIGTERM to the group
 * after `grace.termMs` if the child has not exited, then SIGKILL after `grace.killMs` more if it
 * still has not. A child that has already exited is left alone. The timers do not keep the event
 * loop alive; a `termMs` of 0 sends SIGTERM at once.
 */
export function stopGroup(child: ChildProcess, grace: Partial<StopGrace> = {}): GroupStop {
  // Field by field: a grace given as undefined keeps its default (a spread would not).
  const termMs = grace.termMs ?? DEFAULT_STOP_GRACE.termMs;
  const killMs = grace.killMs ?? DEFAULT_STOP_GRACE.killMs;
  const timers: NodeJS.Timeout[] = [];
  const stop: GroupStop = { cancel: () => timers.forEach(clearTimeout) };
  if (hasExited(child)) return stop;
  child.stdin?.end();
  const later = (ms: number, fn: () => void) => {
    const timer = setTimeout(fn, ms);
    timer.unref();
    timers.push(timer);
  };
  const term = () => {
    if (hasExited(child)) return;
    signalGroup(child, "SIGTERM");
    later(killMs, () => {
      if (!hasExited(child)) signalGroup(child, "SIGKILL");
    });
  };
  if (termMs <= 0) term();
  else later(termMs, term);
  return stop;
}

/**
 * Children whose process groups must not outlive the run that started them (a soak's agents).
 * Stopping signals every group whether or not its leader has exited: what the leader left running
 * goes too.
 */
export class ProcessGroups {
  private readonly live = new Set<ChildProcess>();

  add(child: ChildProcess): void {
    if (child.pid !== undefined) this.live.add(child);
  }

  delete(child: ChildProcess): void {
    this.live.delete(child);
  }

  get size(): number {
    return this.live.size;
  }

  /** SIGTERM to every group, then SIGKILL `graceMs` later to each of them. */
  async stopAll(graceMs = DEFAULT_STOP_GRACE.killMs): Promise<void> {
    const children = [...this.live];
    if (children.length === 0) return;
    for (const child of children) signalGroup(child, "SIGTERM");
    await new Promise((r) => setTimeout(r, graceMs));
    for (const child of children) signalGroup(child, "SIGKILL");
  }

  /** Synchronous last resort (this process is exiting): SIGKILL to every group. */
  killAll(): void {
    for (const child of this.live) signalGroup(child, "SIGKILL");
  }
}

/**
 * While the returned function has not been called: on SIGINT, SIGTERM or SIGHUP, stop every group
 * (`groups.stopAll(graceMs)`), run `cleanup`, then end this process by the same signal, as if no
 * one had listened, unless something else in the process listens for it (the host handles it);
 * on process exit, SIGKILL every group. The handlers are removed by the returned function (safe
 * to call twice) or by the first signal, so none outlives its caller.
 *
 * For children in sessions of their own, out of reach of the terminal's ^C.
 */
export function stopGroupsOnSignals(
  groups: ProcessGroups,
  opts: { graceMs: number; cleanup?: () => Promise<void> },
): () => void {
  const onExit = () => groups.killAll();
  const onSignal = (sig: NodeJS.Signals) => {
    release();
    void groups
      .stopAll(opts.graceMs)
      .then(opts.cleanup)
      .catch(() => {})
      .finally(() => {
        if (process.listenerCount(sig) === 0) process.kill(process.pid, sig);
      });
  };
  const release = () => {
    for (const sig of STOP_SIGNALS) process.removeListener(sig, onSignal);
    process.removeListener("exit", onExit);
  };
  for (const sig of STOP_SIGNALS) process.on(sig, onSignal);
  process.on("exit", onExit);
  return release;
}
