import type { ChildProcess } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { encodeJson, exactSource } from "./exact-json.js";
import { type Frame, FrameBatcher } from "./frame-batcher.js";
import { type GateOptions, type GateStep, McpGate, type StagedStep } from "./gate.js";
import { DEFAULT_MAX_FRAME_BYTES } from "./gate-defaults.js";
import { classify, errorResponse, peekId, RPC, withoutBom } from "./jsonrpc.js";
import { PipeWriter } from "./pipe-writer.js";
import { SerialLane } from "./serial-lane.js";
import { ServerProcess, signalGroup } from "./server-process.js";

/** Server frames are not policed, only bounded so a broken server cannot exhaust memory. */
const MAX_SERVER_FRAME_BYTES = 256 * 1024 * 1024;
/**
 * The gate's answers the client has not read yet (denied calls, refused frames) past which the
 * gate stops reading the client. Well above a pipe's buffer, so a client that writes a burst
 * before it reads does not stall; low enough that one that never reads cannot exhaust memory.
 */
export const MAX_UNREAD_ANSWER_BYTES = 8 * 1024 * 1024;
/** After the client leaves: how long the server gets to exit on its own, then after SIGTERM. */
const GRACE_MS = 2000;
/** After the server exits: how long its output may take to drain before the group is stopped. */
const DRAIN_MS = 1000;

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
}

/**
 * `assay mcp wrap`: run an MCP server as a subprocess and stand between it and the client on
 * stdio. Resolves with the exit code the proxy should end with: the server's own when it exits,
 * 0 when the client left and the server stopped, 2 when the server could not be started.
 */
export function runStdioGate(opts: StdioGateOptions): Promise<number> {
  const input = opts.input ?? process.stdin;
  const output = opts.output ?? process.stdout;
  const warn = opts.warn ?? ((line: string) => process.stderr.write(`assay mcp wrap: ${line}\n`));
  const gate = new McpGate(opts);
  const maxFrameBytes = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;

  return new Promise<number>((resolve) => {
    const server = opts.server ?? ServerProcess.start(opts.command, opts.args, opts.env ?? process.env);
    if (server.child === undefined) {
      warn(`cannot start \`${opts.command}\`: ${server.startError?.message}`);
      resolve(2);
      return;
    }
    const child: ChildProcess = server.child;
    let finished = false;
    let clientGone = false;
    let waitingForDrain = false;
    let spawnFailed = false;

    // Each direction is handled strictly in order on its own lane: a chunk's frames are decided,
    // their records stored in one write, and only then is anything forwarded or answered.
    const internal = (err: unknown) => warn(`internal error: ${(err as Error).message}`);
    const clientLane = new SerialLane(internal);
    const serverLane = new SerialLane(internal);

    // First on the client lane, so it precedes every record of this session.
    clientLane.run(() => {
      const staged = gate.stageStarted([opts.command, ...opts.args]);
      const failed = (err: unknown) => warn(`cannot record the gate's start: ${(err as Error).message}`);
      if (!gate.syncCommit) return gate.commit(staged).then(() => {}, failed);
      try {
        gate.commitSync([staged]);
      } catch (err) {
        failed(err);
      }
      return undefined;
    });

    const serverIn = child.stdin ? new PipeWriter(child.stdin) : undefined;
    const clientOut = new PipeWriter(output);
    // Back-pressure both ways: a client that stops reading stops the gate reading the server,
    // as a server that stops reading stops the gate reading the client (toServer). The gate's own
    // answers pile up only when the client keeps writing without reading (a flood of denied
    // calls): past MAX_UNREAD_ANSWER_BYTES the client is not read either (clientBacklogged).
    let clientFull = false;
    let clientBacklogged = false;
    const holdsInput = () => waitingForDrain || clientBacklogged;
    const releaseInput = () => {
      if (!holdsInput() && !finished) input.resume();
    };
    const writeOut = (lines: string) => {
      if (clientOut.write(lines)) return;
      if (!clientBacklogged && output.writableLength >= MAX_UNREAD_ANSWER_BYTES) {
        clientBacklogged = true;
        input.pause();
      }
      if (clientFull) return;
      clientFull = true;
      child.stdout?.pause();
      output.once("drain", () => {
        clientFull = false;
        child.stdout?.resume();
        if (!clientBacklogged) return;
        clientBacklogged = false;
        releaseInput();
      });
    };
    const toServer = (lines: string) => {
      const stdin = child.stdin;
      if (!stdin || !serverIn) return;
      if (!serverIn.write(lines) && !waitingForDrain) {
        waitingForDrain = true;
        input.pause();
        stdin.once("drain", () => {
          waitingForDrain = false;
          releaseInput();
        });
      }
    };

    /** Decide one client frame (nothing is stored or sent yet). */
    const stageClient = (f: Frame): StagedStep => {
      switch (f.kind) {
        case "line": {
          let msg: unknown;
          try {
            msg = JSON.parse(f.text);
          } catch (err) {
            const staged = gate.stageRejectFrame(
              "unparsable",
              peekId(f.text),
              `unparsable frame: ${(err as Error).message}`,
              f.bytes,
            );
            warn(
              `refused an unparsable frame from the client${staged.step.reply ? "" : " (no id to answer)"}`,
            );
            return staged;
          }
          return gate.stageFromClient(msg, f.bytes, f.text);
        }
        case "oversize":
          warn(`refused a ${f.bytes} byte frame from the client (limit ${maxFrameBytes})`);
          return gate.stageRejectFrame(
            "oversize",
            peekId(f.prefix),
            `frame of ${f.bytes} bytes is over the ${maxFrameBytes} byte limit`,
            f.bytes,
          );
        case "undecodable":
          warn("refused a frame that is not valid UTF-8");
          return gate.stageRejectFrame(
            "undecodable",
            peekId(f.prefix),
            "frame is not valid UTF-8",
            f.prefix.length,
          );
      }
    };

    /**
     * Decide one client frame; the staged step carries the line to forward, encoded before
     * anything is stored (stageFromClient). A frame whose handling throws is refused alone, not
     * with its whole chunk.
     */
    const stageFrame = (f: Frame): StagedStep => {
      try {
        return stageClient(f);
      } catch (err) {
        return refuseFrame(f, `the gate could not process the frame: ${(err as Error).message}`);
      }
    };
    const refuseFrame = (f: Frame, message: string): StagedStep => {
      warn(`refused a frame from the client: ${message}`);
      const text = f.kind === "line" ? f.text : f.prefix;
      return gate.stageRejectFrame(
        "invalid_message",
        peekId(text),
        message,
        "bytes" in f ? f.bytes : f.prefix.length,
      );
    };

    /** Carry out decided steps: answers to the client, then what goes on to the server, a write each. */
    const act = (steps: readonly GateStep[], staged: readonly StagedStep[]) => {
      let toClient = "";
      let forward = "";
      for (let i = 0; i < steps.length; i++) {
        const step = steps[i] as GateStep;
        if (step.reply !== undefined) {
          for (const r of Array.isArray(step.reply) ? step.reply : [step.reply])
            toClient += `${encodeJson(r)}\n`;
        }
        // The step carried out is the staged one unless its record failed (then nothing goes on).
        const s = staged[i];
        if (step.forward && step === s?.step && s.line !== undefined) forward += `${s.line}\n`;
      }
      if (toClient !== "") writeOut(toClient);
      if (forward !== "") toServer(forward);
    };

    /** Handle a chunk's frames. */
    const clientFrames = (frames: Frame[]): void => {
      if (frames.length > 0)
        clientLane.run(() => {
          const staged = frames.map(stageFrame);
          if (gate.syncCommit) {
            act(gate.commitSync(staged), staged);
            return;
          }
          return (async () => {
            for (const s of staged) act([await gate.commit(s)], [s]);
          })();
        });
    };

    /** A server message the gate could not process: its request gets an error, not a hang. */
    const serverFailure = (msg: unknown, err: unknown): string => {
      // E.g. the pins file could not be written.
      warn(`could not process a message from the server: ${(err as Error).message}`);
      let out = "";
      for (const m of Array.isArray(msg) ? msg : [msg]) {
        const k = classify(m);
        if (k.kind !== "response" || k.id === null) continue;
        out += `${encodeJson(errorResponse(k.id, RPC.internalError, `assay gate: ${(err as Error).message}`))}\n`;
      }
      return out;
    };
    /**
     * The line a server message goes on as: its own bytes, unless the gate changed it or the line
     * holds a carriage return. JSON allows a raw CR between tokens, and a client that also splits
     * lines at CR (Node's readline, Python's text mode) would read a message the gate never saw.
     */
    const serverLine = (step: GateStep, msg: unknown, text: string): string => {
      if (!step.forward) return "";
      const out = step.replacement ?? (text.includes("\r") ? msg : undefined);
      if (out === undefined) return `${text}\n`;
      try {
        // Numbers the gate did not change keep the server's text (64-bit ids, `1.0`).
        return `${encodeJson(out, exactSource(text), msg)}\n`;
      } catch (err) {
        return serverFailure(msg, err);
      }
    };

    /** Pass server frames on from `i`, one write for the lot unless a step has to wait. */
    const serverFrom = (frames: Frame[], i: number): void | Promise<void> => {
      let out = "";
      for (; i < frames.length; i++) {
        const f = frames[i] as Frame;
        if (f.kind === "oversize") {
          warn(`dropped a ${f.bytes} byte frame from the server`);
          continue;
        }
        if (f.kind === "undecodable") {
          warn("dropped a frame from the server that is not valid UTF-8");
          continue;
        }
        let msg: unknown;
        const json = withoutBom(f.text);
        try {
          msg = JSON.parse(json);
        } catch {
          // Fail closed: a line the gate cannot read could be a tool list it cannot filter.
          warn("dropped a frame from the server that is not JSON");
          continue;
        }
        let step: GateStep | Promise<GateStep>;
        try {
          step = gate.stepFromServer(msg);
        } catch (err) {
          out += serverFailure(msg, err);
          continue;
        }
        if (step instanceof Promise) {
          if (out !== "") writeOut(out);
          const text = json;
          return step
            .then(
              (s) => serverLine(s, msg, text),
              (err) => serverFailure(msg, err),
            )
            .then((line) => {
              if (line !== "") writeOut(line);
              return serverFrom(frames, i + 1);
            });
        }
        out += serverLine(step, msg, json);
      }
      if (out !== "") writeOut(out);
    };

    const serverFrames = (frames: Frame[]): void => {
      if (frames.length > 0) serverLane.run(() => serverFrom(frames, 0));
    };

    const fromClient = new FrameBatcher(maxFrameBytes);
    const fromServer = new FrameBatcher(MAX_SERVER_FRAME_BYTES);

    const signals: Array<[NodeJS.Signals, () => void]> = [];
    const finish = (code: number) => {
      if (finished) return;
      finished = true;
      input.removeListener("data", onInput);
      input.pause();
      // A gate run in-process must not leave its handlers behind (nor stop signals ending the host).
      for (const [sig, fn] of signals) process.removeListener(sig, fn);
      resolve(code);
    };

    const onInput = (chunk: Buffer | string) => {
      clientFrames(fromClient.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk));
    };
    input.on("data", onInput);
    input.on("end", () => {
      clientFrames(fromClient.end());
      clientLane.run(() => {
        clientGone = true;
        stopServer(child);
      });
    });
    input.on("error", () => {
      clientGone = true;
      stopServer(child);
    });
    output.on("error", () => {
      // The client stopped reading: it is gone.
      clientGone = true;
      stopServer(child);
    });

    server.adopt(() => {
      child.stdout?.on("data", (chunk: Buffer) => serverFrames(fromServer.push(chunk)));
      child.stdin?.on("error", () => {
        // The server closed its input; its exit (or stdout end) tells the rest.
      });
      child.on("error", (err) => {
        spawnFailed = true;
        warn(`cannot start \`${opts.command}\`: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
      });
      child.on("exit", () => {
        // A grandchild still holding the server's stdout would keep "close" from ever coming:
        // give the output a moment to drain, then stop the rest of the group.
        const drain = setTimeout(() => {
          signalGroup(child, "SIGKILL");
          child.stdout?.destroy();
        }, DRAIN_MS);
        drain.unref();
        child.once("close", () => clearTimeout(drain));
      });
      child.on("close", (code, signal) => {
        signalGroup(child, "SIGTERM");
        serverFrames(fromServer.end());
        serverLane.run(async () => {
          await clientLane.idle();
          const why = spawnFailed
            ? `MCP server \`${opts.command}\` could not be started`
            : `MCP server exited (${signal ? `signal ${signal}` : `code ${code}`}) before answering`;
          if (!clientGone) {
            const answers = gate.serverGone(why).map((r) => `${encodeJson(r)}\n`);
            if (answers.length > 0) writeOut(answers.join(""));
          }
          if (!clientGone && !spawnFailed)
            warn(`server exited (${signal ? `signal ${signal}` : `code ${code}`})`);
          await opts.sink?.close().catch(() => {});
          finish(spawnFailed ? 2 : clientGone && code === null ? 0 : exitCodeOf(code, signal));
        });
      });
    });

    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
      const fn = () => {
        clientGone = true;
        signalGroup(child, sig);
      };
      signals.push([sig, fn]);
      process.once(sig, fn);
    }
  });
}

/** Close the server's input, then escalate: SIGTERM after a grace period, SIGKILL after another. */
function stopServer(child: ChildProcess): void {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.stdin?.end();
  const term = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) signalGroup(child, "SIGTERM");
    const kill = setTimeout(() => {
      if (child.exitCode === null && child.signalCode === null) signalGroup(child, "SIGKILL");
    }, GRACE_MS);
    kill.unref();
  }, GRACE_MS);
  term.unref();
}

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 1) : 1);
}
