import { type ChildProcess, spawn } from "node:child_process";

type EarlyEvent = ["error", Error] | ["exit" | "close", number | null, NodeJS.Signals | null];

/**
 * An MCP server started before the gate is ready to serve it: `assay mcp wrap` starts the server
 * and loads the policy at the same time, as both take a node start-up or more. Until the gate
 * takes it over (adopt), nothing reads its output (it waits in the pipe) and nothing is written
 * to it, so nothing passes unchecked; what it did meanwhile (failed to start, exited) is kept
 * and handed to the gate in order.
 */
export class ServerProcess {
  readonly child: ChildProcess | undefined;
  /** Why spawn() itself threw, if it did (the `error` event covers the rest, e.g. ENOENT). */
  readonly startError: Error | undefined;
  private readonly early: EarlyEvent[] = [];
  private readonly onError = (err: Error) => this.early.push(["error", err]);
  private readonly onExit = (code: number | null, signal: NodeJS.Signals | null) =>
    this.early.push(["exit", code, signal]);
  // A process that could not start closes its pipes at once (otherwise its unread output holds
  // "close" back until the gate reads it).
  private readonly onClose = (code: number | null, signal: NodeJS.Signals | null) =>
    this.early.push(["close", code, signal]);

  private constructor(
    readonly command: string,
    readonly args: readonly string[],
    env: NodeJS.ProcessEnv,
  ) {
    try {
      // Its own process group, so stopping it also stops what it started (`npx`, shell wrappers).
      this.child = spawn(command, [...args], { stdio: ["pipe", "pipe", "inherit"], env, detached: true });
      this.child.on("error", this.onError);
      this.child.once("exit", this.onExit);
      this.child.once("close", this.onClose);
    } catch (err) {
      this.startError = err as Error;
    }
  }

  static start(
    command: string,
    args: readonly string[],
    env: NodeJS.ProcessEnv = process.env,
  ): ServerProcess {
    return new ServerProcess(command, args, env);
  }

  /**
   * Hand the process over: `listen` attaches the gate's own handlers, then what happened before
   * is emitted to them, in order.
   */
  adopt(listen: (child: ChildProcess) => void): void {
    const child = this.child;
    if (child === undefined) return;
    child.removeListener("error", this.onError);
    child.removeListener("exit", this.onExit);
    child.removeListener("close", this.onClose);
    listen(child);
    for (const [name, ...args] of this.early.splice(0)) child.emit(name, ...args);
  }

  /** Stop a server the gate will never serve (its policy did not load): it got nothing to act on. */
  abandon(): void {
    if (this.child !== undefined) signalGroup(this.child, "SIGKILL");
  }
}

/** Signal the server's whole process group (falling back to the server alone). */
export function signalGroup(child: ChildProcess, sig: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, sig);
  } catch {
    try {
      child.kill(sig);
    } catch {
      // Already gone.
    }
  }
}
