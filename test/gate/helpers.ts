import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { getDefaultEnvironment, StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { FileDecisionLog } from "../../src/gate/decision-log.js";
import { runStdioGate, type StdioGateOptions } from "../../src/gate/stdio-gate.js";
import type { CompiledPolicy } from "../../src/policy/ir.js";
import type { AnyGateEvent, DecisionEvent } from "../../src/records/decision-event.js";
import { parseDecisionLog } from "../../src/records/decision-record.js";
import { policyFromYaml } from "../policy/helpers.js";
import { within } from "../within.js";

export { within };

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
/** The CLI as users run it (it imports the compiled dist/). */
export const ASSAY_BIN = join(ROOT, "bin/assay");
/** The hand-written server that records every byte it receives (test/fixtures/gate). */
export const RECORDING_SERVER = join(ROOT, "test/fixtures/gate/recording-server.mjs");
export const FILESYSTEM_SERVER = join(
  ROOT,
  "node_modules/@modelcontextprotocol/server-filesystem/dist/index.js",
);
export const EVERYTHING_SERVER = join(
  ROOT,
  "node_modules/@modelcontextprotocol/server-everything/dist/index.js",
);

/**
 * Fail early and clearly when dist/ (what bin/assay runs) is missing or older than src/gate and
 * src/cli: the subprocess tests would otherwise test yesterday's code.
 */
export function assertBuilt(): void {
  assert.ok(existsSync(join(ROOT, "dist/cli-bundle/main.js")), "dist/ is missing: run `npm run build`");
  for (const dir of ["gate", "cli", "policy"]) {
    for (const f of readdirSyncTs(join(ROOT, "src", dir))) {
      const built = join(ROOT, "dist", dir, f.replace(/\.ts$/, ".js"));
      if (!existsSync(built)) continue;
      const older = statSync(built).mtimeMs + 1 < statSync(join(ROOT, "src", dir, f)).mtimeMs;
      assert.ok(!older, `dist/ is older than src/${dir}/${f}: run \`npm run build\``);
    }
  }
}

function readdirSyncTs(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith(".ts"))
    .sort();
}

/** A temporary directory removed when the test ends. */
export async function tempDir(t: TestContext, prefix = "assay-gate-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  t.after(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Write a pack (YAML text) into `dir` and return its path. */
export async function writePack(dir: string, name: string, yaml: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, yaml);
  return path;
}

/** Poll `check` until it returns a value other than undefined/false, for at most `ms`. */
export async function waitFor<T>(
  ms: number,
  what: string,
  check: () => T | undefined | false | Promise<T | undefined | false>,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Whether a process with this pid exists (and is not a zombie we could still reap). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    // A zombie still answers kill(0); on Linux its state says so.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return true;
  }
}

/** Kill a process if it still runs (cleanup after a failed test; never by name). */
export function killIfAlive(pid: number | undefined): void {
  if (pid === undefined || !pidAlive(pid)) return;
  try {
    process.kill(pid, "SIGKILL");
  } catch {
    // Gone in the meantime.
  }
}

/** The complete records of a decision log (none when the file does not exist yet). */
export function readLog(path: string): AnyGateEvent[] {
  if (!existsSync(path)) return [];
  return parseDecisionLog(readFileSync(path, "utf8"));
}

/** Only the `assay.tool.decision` records. */
export function decisions(path: string): DecisionEvent[] {
  return readLog(path).filter((e): e is DecisionEvent => e.type === "assay.tool.decision");
}

/** JSON lines read from a stream as they arrive; `next` waits (bounded) for one that matches. */
export class JsonLines {
  readonly all: unknown[] = [];
  readonly raw: string[] = [];
  private buf = "";
  private waiters: Array<() => void> = [];

  constructor(stream: Readable) {
    stream.on("data", (chunk: Buffer | string) => {
      this.buf += chunk.toString();
      for (let nl = this.buf.indexOf("\n"); nl >= 0; nl = this.buf.indexOf("\n")) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        this.raw.push(line);
        try {
          this.all.push(JSON.parse(line));
        } catch {
          this.all.push({ unparsable: line });
        }
      }
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /** The first message (from index `from`) matching `pred`, waiting at most `ms`. */
  async next(
    pred: (m: Record<string, unknown>) => boolean,
    ms = 5000,
    from = 0,
  ): Promise<Record<string, unknown>> {
    const deadline = Date.now() + ms;
    for (;;) {
      const found = this.all.slice(from).find((m) => typeof m === "object" && m !== null && pred(m as never));
      if (found) return found as Record<string, unknown>;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out after ${ms} ms; got: ${this.raw.slice(from).join(" | ")}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The reply to the request with this id. */
  reply(id: unknown, ms = 5000): Promise<Record<string, unknown>> {
    return this.next((m) => m.id === id && ("result" in m || "error" in m), ms);
  }
}

export interface WrapSession {
  client: Client;
  transport: StdioClientTransport;
  /** What `assay mcp wrap` (and the server) wrote to stderr so far. */
  stderr(): string;
  close(): Promise<void>;
}

/**
 * Connect the official SDK client to `assay mcp wrap <gateArgs> -- <server...>` over stdio.
 * `close()` is bounded and kills what is left.
 */
export async function connectWrap(
  gateArgs: string[],
  server: string[],
  opts: {
    capabilities?: ConstructorParameters<typeof Client>[1];
    setup?: (c: Client) => void;
    env?: Record<string, string>;
  } = {},
): Promise<WrapSession> {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [ASSAY_BIN, "mcp", "wrap", ...gateArgs, "--", ...server],
    stderr: "pipe",
    cwd: ROOT,
    env: { ...getDefaultEnvironment(), ...opts.env },
  });
  let err = "";
  transport.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const client = new Client({ name: "assay-gate-test", version: "1.0.0" }, opts.capabilities);
  opts.setup?.(client);
  try {
    await within(15_000, "the gate and server to initialize", client.connect(transport));
  } catch (e) {
    killIfAlive(transport.pid ?? undefined);
    throw new Error(`${(e as Error).message}\nstderr: ${err}`);
  }
  return {
    client,
    transport,
    stderr: () => err,
    close: async () => {
      const pid = transport.pid ?? undefined;
      await within(8000, "the client to close", client.close()).catch(() => {});
      killIfAlive(pid);
    },
  };
}

export interface InProcessGate {
  input: PassThrough;
  replies: JsonLines;
  /** Resolves with the exit code runStdioGate ends with. */
  done: Promise<number>;
  /** Every byte the recording server received. */
  received(): string;
  /** The frames the recording server received, one per line. */
  receivedLines(): string[];
  serverPid(): Promise<number>;
  logPath: string;
  warnings: string[];
  /** Write raw text (or bytes) to the gate, as the client. */
  send(data: string | Buffer): void;
  /** Send a ping and wait for its answer: everything sent before it has been handled. */
  sync(): Promise<void>;
}

let syncSeq = 0;

/**
 * runStdioGate in this process, with PassThrough streams as the client and the recording server
 * (test/fixtures/gate/recording-server.mjs) as the MCP server. Stopped and cleaned up after the test.
 */
export async function startGate(
  t: TestContext,
  opts: Partial<StdioGateOptions> & { policy: StdioGateOptions["policy"]; mode?: "normal" | "stubborn" },
): Promise<InProcessGate> {
  // One cleanup, in order: stop the gate, make sure the server is gone, then remove the files.
  const dir = await mkdtemp(join(tmpdir(), "assay-gate-"));
  const record = join(dir, "received.bin");
  await writeFile(record, "");
  const logPath = join(dir, "decisions.ndjson");
  const sink = opts.sink ?? (await FileDecisionLog.open(logPath));
  const input = new PassThrough();
  const output = new PassThrough();
  const replies = new JsonLines(output);
  const warnings: string[] = [];
  const { mode, ...rest } = opts;
  const done = runStdioGate({
    command: process.execPath,
    args: [RECORDING_SERVER, record, mode ?? "normal"],
    input,
    output,
    warn: (l) => warnings.push(l),
    ...rest,
    sink,
  });
  let pid: number | undefined;
  const readPid = () => {
    try {
      const n = Number(readFileSync(`${record}.pid`, "utf8"));
      if (Number.isInteger(n) && n > 0) pid = n;
    } catch {
      // Not written yet.
    }
    return pid;
  };
  const serverPid = () => waitFor(5000, "the recording server's pid file", readPid);
  t.after(async () => {
    input.end();
    await within(6000, "the gate to stop", done).catch(() => {});
    killIfAlive(readPid());
    await rm(dir, { recursive: true, force: true });
  });
  const received = () => readFileSync(record, "utf8");
  return {
    input,
    replies,
    done,
    received,
    receivedLines: () => {
      const text = received();
      return text === "" ? [] : text.replace(/\n$/, "").split("\n");
    },
    serverPid,
    logPath,
    warnings,
    send: (data) => input.write(data),
    sync: async () => {
      const id = `sync:${++syncSeq}`;
      input.write(`${JSON.stringify({ jsonrpc: "2.0", id, method: "ping" })}\n`);
      await replies.reply(id, 5000);
    },
  };
}

/** The gate tests' policy: read_file and list_dir allowed, exec denied, reads confined to /workspace. */
/** The pack text of a policy that allows every tool but `exec` (a file for CLI tests, or compiled). */
export const OPEN_PACK = `
id: open
version: "1.0.0"
defaults: allow
rules:
  - id: no-exec
    dimension: security
    severity: high
    tools: { deny: ["exec"] }
`;

export function openPolicy(): CompiledPolicy {
  return policyFromYaml(OPEN_PACK);
}

export function workspacePolicy(): CompiledPolicy {
  return policyFromYaml(`
id: gate-tests
version: "1.0.0"
defaults: deny
rules:
  - id: fs-tools
    dimension: security
    severity: high
    tools: { allow: ["read_file", "list_dir"], deny: ["exec"] }
  - id: workspace
    dimension: security
    severity: high
    args:
      tools: ["read_file"]
      schema:
        type: object
        properties: { path: { type: string, pattern: "^/workspace/", not: { pattern: '(^|/)\\.\\.(/|$)' } } }
        required: [path]
`);
}
