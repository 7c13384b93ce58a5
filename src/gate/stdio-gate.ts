import type { ChildProcess } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { signalGroup, stopGroup } from "../lib/process-group.js";
import { encodeJson } from "./exact-json.js";
import { type Frame, FrameBatcher } from "./frame-batcher.js";
import {
  commitFrames,
  type FrameSource,
  failureAnswers,
  parseServerText,
  repliesOf,
  serverText,
  stageFrame,
  unrecordedWarning,
} from "./frame-step.js";
import { McpGate } from "./gate.js";
import { DEFAULT_MAX_FRAME_BYTES } from "./gate-defaults.js";
import type { GateOptions } from "./gate-options.js";
import { errorText, type GateStep, type StagedStep } from "./gate-step.js";
import { withoutBom } from "./jsonrpc.js";
import { SerialLane } from "./serial-lane.js";
import { DEFAULT_STOP_TIMERS, drainAfterExit, exitCodeOf, type StopTimers } from "./server-exit.js";
import { ServerProcess } from "./server-process.js";
import { StdioPipes } from "./stdio-pipes.js";

/** Server frames are not policed, only bounded so a broken server cannot exhaust memory. */
const MAX_SERVER_FRAME_BYTES = 256 * 1024 * 1024;

export interface StdioGateOptions extends GateOptions {
  command: string;
  args: readonly string[];
  maxFrameBytes?: number;
  /** The server, already started (ServerProcess.start; `env` is then not used); by default the gate starts it. */
  server?: ServerProcess;
  /** The client side; the process's stdio by default. */
  input?: Readable;
  output?: Writable;
  /** Where the gate reports what it refused and why the server stopped. */
  warn?: (line: string) => void;
  env?: NodeJS.ProcessEnv;
  /** How long the server gets to stop and its output to drain (2 s and 1 s by default). */
  timers?: Partial<StopTimers>;
}

/**
 * `assay mcp wrap`: run an MCP server as a subprocess and stand between it and the client on
 * stdio. Resolves with the exit code the proxy should end with: the server's own when it exits,
 * 0 when the client left and the server stopped, 2 when the server could not be started.
 */
export function runStdioGate(opts: StdioGateOptions): Promise<number> {
  const warn = opts.warn ?? ((line: string) => process.stderr.write(`assay mcp wrap: ${line}\n`));
  const gate = new McpGate(opts);
  return new Promise<number>((resolve) => {
    const server = opts.server ?? ServerProcess.start(opts.command, opts.args, opts.env ?? process.env);
    if (server.child === undefined) {
      warn(`cannot start \`${opts.command}\`: ${server.startError?.message}`);
      resolve(2);
      return;
    }
    new StdioGate(opts, gate, server.child, warn, resolve).start(server);
  });
}

/**
 * One run of the stdio gate. Each direction is handled strictly in order on its own lane: a
 * chunk's frames are decided, their records stored in one write, and only then is anything
 * forwarded or answered (frame-step.ts).
 */
class StdioGate {
  private readonly input: Readable;
  private readonly pipes: StdioPipes;
  private readonly timers: StopTimers;
  private readonly src: FrameSource;
  private readonly clientLane: SerialLane;
  private readonly serverLane: SerialLane;
  private readonly fromClient: FrameBatcher;
  private readonly fromServer = new FrameBatcher(MAX_SERVER_FRAME_BYTES);
  private readonly signals: Array<[NodeJS.Signals, () => void]> = [];
  private finished = false;
  /** The client left (or a signal came): the server is being stopped, and nobody is answered. */
  private clientGone = false;
  private spawnFailed = false;

  constructor(
    private readonly opts: StdioGateOptions,
    private readonly gate: McpGate,
    private readonly child: ChildProcess,
    private readonly warn: (line: string) => void,
    private readonly resolve: (code: number) => void,
  ) {
    this.input = opts.input ?? process.stdin;
    this.pipes = new StdioPipes(this.input, opts.output ?? process.stdout, child);
    // Field by field: an option given as undefined keeps its default (a spread would not).
    this.timers = {
      graceMs: opts.timers?.graceMs ?? DEFAULT_STOP_TIMERS.graceMs,
      drainMs: opts.timers?.drainMs ?? DEFAULT_STOP_TIMERS.drainMs,
    };
    const maxBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.src = { noun: "frame", from: " from the client", maxBytes, warn };
    this.fromClient = new FrameBatcher(maxBytes);
    const internal = (err: unknown) => warn(`internal error: ${errorText(err)}`);
    this.clientLane = new SerialLane(internal);
    this.serverLane = new SerialLane(internal);
  }

  start(server: ServerProcess): void {
    const { gate, opts, child, input } = this;
    // First on the client lane, so it precedes every record of this session.
    this.clientLane.run(() => {
      const staged = gate.stageStarted([opts.command, ...opts.args]);
      const failed = (err: unknown) => this.warn(`cannot record the gate's start: ${errorText(err)}`);
      if (!gate.syncCommit) return gate.commit(staged).then(() => {}, failed);
      try {
        gate.commitSync([staged]);
      } catch (err) {
        failed(err);
      }
      return undefined;
    });

    input.on("data", this.onInput);
    input.on("end", () => {
      this.clientFrames(this.fromClient.end());
      this.clientLane.run(() => this.clientLeft());
    });
    input.on("error", () => this.clientLeft());
    // The client stopped reading: it is gone.
    (opts.output ?? process.stdout).on("error", () => this.clientLeft());

    server.adopt(() => {
      child.stdout?.on("data", (chunk: Buffer) => this.serverFrames(this.fromServer.push(chunk)));
      child.stdin?.on("error", () => {
        // The server closed its input; its exit (or stdout end) tells the rest.
      });
      child.on("error", (err) => {
        this.spawnFailed = true;
        const why = (err as NodeJS.ErrnoException).code ?? err.message;
        this.warn(`cannot start \`${opts.command}\`: ${why}`);
      });
      child.on("exit", () => drainAfterExit(child, this.timers.drainMs));
      child.on("close", (code, signal) => this.serverClosed(code, signal));
    });

    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      const fn = () => {
        this.clientGone = true;
        signalGroup(child, sig);
      };
      this.signals.push([sig, fn]);
      process.once(sig, fn);
    }
  }

  private readonly onInput = (chunk: Buffer | string): void => {
    this.clientFrames(this.fromClient.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk));
  };

  private clientLeft(): void {
    this.clientGone = true;
    stopGroup(this.child, { termMs: this.timers.graceMs, killMs: this.timers.graceMs });
  }

  /** Decide a chunk's frames, store their records, then carry them out. */
  private clientFrames(frames: Frame[]): void {
    if (frames.length > 0) this.clientLane.runWith(this.clientChunk, frames, undefined);
  }

  private readonly clientChunk = (frames: Frame[]): void | Promise<void> =>
    commitFrames(this.gate, frames.map(this.stage), this.act);

  private readonly stage = (f: Frame): StagedStep => stageFrame(this.gate, f, this.src);

  /** Carry out decided steps: answers to the client, then what goes on to the server, a write each. */
  private readonly act = (steps: readonly GateStep[], staged: readonly StagedStep[]): void => {
    let toClient = "";
    let forward = "";
    for (let i = 0; i < steps.length; i++) {
      const step = steps[i] as GateStep;
      if (step.why === "unrecorded") this.warn(unrecordedWarning(step) as string);
      if (step.reply !== undefined) for (const r of repliesOf(step)) toClient += `${encodeJson(r)}\n`;
      // The step carried out is the staged one unless its record failed (then nothing goes on).
      const s = staged[i];
      if (step.forward && step === s?.step && s.line !== undefined) forward += `${s.line}\n`;
    }
    if (toClient !== "") this.pipes.toClient(toClient);
    if (forward !== "") this.pipes.toServer(forward);
  };

  private serverFrames(frames: Frame[]): void {
    if (frames.length > 0) this.serverLane.runWith(this.serverFrom, frames, 0);
  }

  /** Pass server frames on from `i`, one write for the lot unless a step has to wait. */
  private readonly serverFrom = (frames: Frame[], i: number): void | Promise<void> => {
    let out = "";
    for (; i < frames.length; i++) {
      const f = frames[i] as Frame;
      if (f.kind !== "line") {
        this.warn(
          f.kind === "oversize"
            ? `dropped a ${f.bytes} byte frame from the server`
            : "dropped a frame from the server that is not valid UTF-8",
        );
        continue;
      }
      const json = withoutBom(f.text);
      const msg = parseServerText(json);
      if (msg === undefined) {
        // Fail closed: a line the gate cannot read could be a tool list it cannot filter.
        this.warn("dropped a frame from the server that is not JSON");
        continue;
      }
      let step: GateStep | Promise<GateStep>;
      try {
        step = this.gate.stepFromServer(msg);
      } catch (err) {
        out += this.serverFailure(msg, err);
        continue;
      }
      if (step instanceof Promise) {
        if (out !== "") this.pipes.toClient(out);
        return step
          .then(
            (s) => this.serverLine(s, msg, json),
            (err) => this.serverFailure(msg, err),
          )
          .then((line) => {
            if (line !== "") this.pipes.toClient(line);
            return this.serverFrom(frames, i + 1);
          });
      }
      out += this.serverLine(step, msg, json);
    }
    if (out !== "") this.pipes.toClient(out);
  };

  /** The line a server message goes on as (none when it does not go on). */
  private serverLine(step: GateStep, msg: unknown, json: string): string {
    try {
      const text = serverText(step, msg, json, true);
      return text === undefined ? "" : `${text}\n`;
    } catch (err) {
      return this.serverFailure(msg, err);
    }
  }

  /** A server message the gate could not process (e.g. the pins file could not be written). */
  private serverFailure(msg: unknown, err: unknown): string {
    this.warn(`could not process a message from the server: ${errorText(err)}`);
    return failureAnswers(msg, err)
      .map((a) => `${encodeJson(a)}\n`)
      .join("");
  }

  private serverClosed(code: number | null, signal: NodeJS.Signals | null): void {
    signalGroup(this.child, "SIGTERM");
    this.serverFrames(this.fromServer.end());
    this.serverLane.run(async () => {
      await this.clientLane.idle();
      const how = signal ? `signal ${signal}` : `code ${code}`;
      const why = this.spawnFailed
        ? `MCP server \`${this.opts.command}\` could not be started`
        : `MCP server exited (${how}) before answering`;
      if (!this.clientGone) {
        const answers = this.gate.serverGone(why).map((r) => `${encodeJson(r)}\n`);
        if (answers.length > 0) this.pipes.toClient(answers.join(""));
      }
      if (!this.clientGone && !this.spawnFailed) this.warn(`server exited (${how})`);
      await this.opts.sink?.close().catch(() => {});
      this.finish(this.spawnFailed ? 2 : this.clientGone && code === null ? 0 : exitCodeOf(code, signal));
    });
  }

  private finish(code: number): void {
    if (this.finished) return;
    this.finished = true;
    this.input.removeListener("data", this.onInput);
    this.pipes.stop();
    // A gate run in-process must not leave its handlers behind (nor stop signals ending the host).
    for (const [sig, fn] of this.signals) process.removeListener(sig, fn);
    this.resolve(code);
  }
}
