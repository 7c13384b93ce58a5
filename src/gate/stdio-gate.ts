import { type ChildProcess, spawn } from "node:child_process";
import type { Readable, Writable } from "node:stream";
import { type GateOptions, McpGate } from "./gate.js";
import { classify, errorResponse, peekId, RPC } from "./jsonrpc.js";
import { LineSplitter } from "./line-splitter.js";

/** Client frames over this size are refused unparsed (fail closed). */
export const DEFAULT_MAX_FRAME_BYTES = 4 * 1024 * 1024;
/** Server frames are not policed, only bounded so a broken server cannot exhaust memory. */
const MAX_SERVER_FRAME_BYTES = 256 * 1024 * 1024;
/** After the client leaves: how long the server gets to exit on its own, then after SIGTERM. */
const GRACE_MS = 2000;
/** After the server exits: how long its output may take to drain before the group is stopped. */
const DRAIN_MS = 1000;

export interface StdioGateOptions extends GateOptions {
  command: string;
  args: readonly string[];
  maxFrameBytes?: number;
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

  return new Promise<number>((resolve) => {
    let child: ChildProcess;
    try {
      // Its own process group, so stopping it also stops what it started (`npx`, shell wrappers).
      child = spawn(opts.command, [...opts.args], {
        stdio: ["pipe", "pipe", "inherit"],
        env: opts.env ?? process.env,
        detached: true,
      });
    } catch (err) {
      warn(`cannot start \`${opts.command}\`: ${(err as Error).message}`);
      resolve(2);
      return;
    }
    let finished = false;
    let clientGone = false;
    let waitingForDrain = false;
    let spawnFailed = false;
    const toClient = (msg: unknown) => writeLine(output, JSON.stringify(msg));

    // Each direction is handled strictly in order: a message waits for the one before it
    // (a tools/call waits for its record to be written), so nothing overtakes anything.
    let clientChain: Promise<void> = Promise.resolve();
    let serverChain: Promise<void> = Promise.resolve();
    const clientDo = (fn: () => Promise<void>) => {
      clientChain = clientChain.then(fn).catch((err) => warn(`internal error: ${(err as Error).message}`));
    };
    const serverDo = (fn: () => Promise<void>) => {
      serverChain = serverChain.then(fn).catch((err) => warn(`internal error: ${(err as Error).message}`));
    };
    // First on the client chain, so it precedes every record of this session.
    clientDo(async () => {
      try {
        await gate.started([opts.command, ...opts.args]);
      } catch (err) {
        warn(`cannot record the gate's start: ${(err as Error).message}`);
      }
    });

    const toServer = (line: string) => {
      const stdin = child.stdin;
      if (!stdin || stdin.destroyed || !stdin.writable) return;
      if (!stdin.write(`${line}\n`) && !waitingForDrain) {
        waitingForDrain = true;
        input.pause();
        stdin.once("drain", () => {
          waitingForDrain = false;
          input.resume();
        });
      }
    };

    const fromClient = new LineSplitter(opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES, {
      line: (text) =>
        clientDo(async () => {
          let msg: unknown;
          try {
            msg = JSON.parse(text);
          } catch (err) {
            const step = await gate.rejectFrame(
              "unparsable",
              peekId(text),
              `unparsable frame: ${(err as Error).message}`,
              Buffer.byteLength(text),
            );
            warn(`refused an unparsable frame from the client${step.reply ? "" : " (no id to answer)"}`);
            if (step.reply) toClient(step.reply);
            return;
          }
          const step = await gate.fromClient(msg, Buffer.byteLength(text));
          if (step.reply !== undefined) {
            for (const r of Array.isArray(step.reply) ? step.reply : [step.reply]) toClient(r);
          }
          if (step.forward)
            toServer(step.replacement === undefined ? text : JSON.stringify(step.replacement));
        }),
      oversize: (prefix, bytes) =>
        clientDo(async () => {
          const limit = opts.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
          const step = await gate.rejectFrame(
            "oversize",
            peekId(prefix),
            `frame of ${bytes} bytes is over the ${limit} byte limit`,
            bytes,
          );
          warn(`refused a ${bytes} byte frame from the client (limit ${limit})`);
          if (step.reply) toClient(step.reply);
        }),
      undecodable: (prefix) =>
        clientDo(async () => {
          const step = await gate.rejectFrame(
            "undecodable",
            peekId(prefix),
            "frame is not valid UTF-8",
            prefix.length,
          );
          warn("refused a frame that is not valid UTF-8");
          if (step.reply) toClient(step.reply);
        }),
    });

    const fromServer = new LineSplitter(MAX_SERVER_FRAME_BYTES, {
      line: (text) =>
        serverDo(async () => {
          let msg: unknown;
          try {
            msg = JSON.parse(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
          } catch {
            // Fail closed: a line the gate cannot read could be a tool list it cannot filter.
            warn("dropped a frame from the server that is not JSON");
            return;
          }
          let step: Awaited<ReturnType<McpGate["fromServer"]>>;
          try {
            step = await gate.fromServer(msg);
          } catch (err) {
            // E.g. the pins file could not be written: the client gets an error, not a hang.
            warn(`could not process a message from the server: ${(err as Error).message}`);
            const k = classify(msg);
            if (k.kind === "response" && k.id !== null) {
              toClient(errorResponse(k.id, RPC.internalError, `assay gate: ${(err as Error).message}`));
            }
            return;
          }
          if (step.forward)
            writeLine(output, step.replacement === undefined ? text : JSON.stringify(step.replacement));
        }),
      oversize: (_prefix, bytes) =>
        serverDo(async () => warn(`dropped a ${bytes} byte frame from the server`)),
      undecodable: () =>
        serverDo(async () => warn("dropped a frame from the server that is not valid UTF-8")),
    });

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

    const onInput = (chunk: Buffer | string) =>
      fromClient.push(typeof chunk === "string" ? Buffer.from(chunk) : chunk);
    input.on("data", onInput);
    input.on("end", () => {
      fromClient.end();
      clientDo(async () => {
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

    child.stdout?.on("data", (chunk: Buffer) => fromServer.push(chunk));
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
      fromServer.end();
      serverDo(async () => {
        await clientChain;
        const why = spawnFailed
          ? `MCP server \`${opts.command}\` could not be started`
          : `MCP server exited (${signal ? `signal ${signal}` : `code ${code}`}) before answering`;
        if (!clientGone) for (const r of gate.serverGone(why)) toClient(r);
        if (!clientGone && !spawnFailed)
          warn(`server exited (${signal ? `signal ${signal}` : `code ${code}`})`);
        await opts.sink?.close().catch(() => {});
        finish(spawnFailed ? 2 : clientGone && code === null ? 0 : exitCodeOf(code, signal));
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

function writeLine(out: Writable, line: string): void {
  if (!out.destroyed && out.writable) out.write(`${line}\n`);
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

/** Signal the server's whole process group (falling back to the server alone). */
function signalGroup(child: ChildProcess, sig: NodeJS.Signals): void {
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

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

function exitCodeOf(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? (SIGNAL_NUMBERS[signal] ?? 1) : 1);
}
