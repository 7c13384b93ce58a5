import { type ChildProcess, spawn } from "node:child_process";
import { signalGroup } from "../lib/process-group.js";

type EarlyEvent = ["error", Error] | ["exit" | "close", number | null, NodeJS.Signals | null];

/**
 * An MCP server started before the gate is ready to serve it: `assay mcp wrap` starts the server
 * and loads the policy at the same time, as both take a node start-up or more. Until the gate
 * takes it over (adopt), nothing is written to it and its output is not passed on: it waits in
 * the pipe, or, if the server exits meanwhile (Node then drains the pipe), here. What it did
 * meanwhile (its output, a failure to start, its exit) is handed to the gate in order.
 */
export class ServerProcess {
  readonly child: ChildProcess | undefined;
  /** Why spawn() itself threw, if it did (the `error` event covers the rest, e.g. ENOENT). */
  readonly startError: Error | undefined;
  private readonly early: EarlyEvent[] = [];
  private readonly held: Buffer[] = [];
  private readonly hold = (chunk: Buffer) => this.held.push(chunk);
  private readonly onError = (err: Error) => this.early.push(["error", err]);
  private readonly onExit = (code: number | null, signal: NodeJS.Signals | null) =>
    this.early.push(["exit", code, signal]);
  // A process that could not start, or exited, closes its pipes before the gate reads them.
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
      // Paused, the output stays in the pipe (back-pressure on the server); when the server exits,
      // Node resumes the stream to drain it, and what it held lands in `held` instead of nowhere.
      this.child.stdout?.on("data", this.hold);
      this.child.stdout?.pause();
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
   * is given to them in order (output first, then the events), and the output flows to the gate.
   */
  adopt(listen: (child: ChildProcess) => void): void {
    const child = this.child;
    if (child === undefined) return;
    const out = child.stdout;
    child.removeListener("error", this.onError);
    child.removeListener("exit", this.onExit);
    child.removeListener("close", this.onClose);
    out?.removeListener("data", this.hold);
    listen(child);
    const held = this.held.splice(0);
    for (const chunk of held) out?.emit("data", chunk);
    // Nothing held: the stream is still paused (by us), with the output in the pipe.
    if (held.length === 0) out?.resume();
    for (const [name, ...args] of this.early.splice(0)) child.emit(name, ...args);
  }

  /** Stop a server the gate will never serve (its policy did not load): it got nothing to act on. */
  abandon(): void {
    if (this.child !== undefined) signalGroup(this.child, "SIGKILL");
  }
}
