import type { ChildProcess } from "node:child_process";
import { signalGroup } from "../lib/process-group.js";

/** How long a server gets to stop, and its output to drain (injectable: short in tests). */
export interface StopTimers {
  /** After the client leaves: how long the server gets to exit on its own, then after SIGTERM. */
  graceMs: number;
  /** After the server exits: how long its output may take to drain before its group is stopped. */
  drainMs: number;
}

export const DEFAULT_STOP_TIMERS: StopTimers = Object.freeze({ graceMs: 2000, drainMs: 1000 });

/**
 * The server exited: a grandchild still holding its stdout would keep "close" from ever coming,
 * so the output gets `drainMs` to drain, then the rest of the group is stopped.
 */
export function drainAfterExit(child: ChildProcess, drainMs: number): void {
  const drain = setTimeout(() => {
    signalGroup(child, "SIGKILL");
    child.stdout?.destroy();
  }, drainMs);
  drain.unref();
  child.once("close", () => clearTimeout(drain));
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** The exit code a proxy for a process that ended this way ends with (128 + signal number). */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 1) : 1);
}
