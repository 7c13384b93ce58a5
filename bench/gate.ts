/**
 * MCP gate benchmark: `npm run bench:gate -- [--json] [--cpu-prof]`.
 *
 * One file on purpose (over ~400 lines): a benchmark is one runnable script, its setups, checks
 * and report together, so that what it measures can be read in one place.
 *
 * What is measured, all in one run on this machine, against one real MCP server:
 * @modelcontextprotocol/server-everything (`dist/index.js stdio`, tool `echo`), started by
 * `node` once per setup. Seven setups are up at the same time, each with its own server process:
 *
 * - direct: our client talks to the server's stdio.
 * - gated: the same server behind `assay mcp wrap` (bin/assay, so the build in dist/), with
 *   packs/mcp-baseline.yaml plus a small application allow-list pack (bench/fixtures/bench-app.yaml)
 *   (`echo` allowed, its arguments checked by a JSON Schema; everything else denied), a
 *   decision log (`--decision-log`, one appended record per call, as in production) in a temp
 *   dir, and tools/list filtering on (the default).
 * - peer: the same server behind mcp-proxy (npm, exact version in package.json), a pass-through
 *   proxy with no policy. mcp-proxy has no stdio→stdio mode (its CLI serves stdio over HTTP, its
 *   startStdioServer() serves HTTP on stdio), so bench/fixtures/mcp-proxy-stdio.mjs wires its
 *   exported relay, proxyServer(), to stdio on both sides, as startStdioServer() does. It is an
 *   SDK-level relay (an SDK Server and Client that decode, validate and re-encode each message);
 *   it and the SDK v2 packages it brings declare and run on Node >= 20.
 * - pipe hop: a bare Node process that pipes bytes both ways (`stdin.pipe`, `stdout.pipe`) and
 *   parses nothing: the cost of the extra process hop alone. Shown for reference.
 * - record hop: the floor the gate is judged against (bench/fixtures/record-hop.mjs): the least a
 *   gate that keeps the decision log contract does, with no policy. Each client message is
 *   parsed, a record of about the gate's size (~730 bytes) is appended to a log file with one
 *   synchronous write per read before anything is forwarded, and the messages go on re-encoded;
 *   each server message is parsed (a gate must see tool lists) and passed on as its own bytes.
 *   Everything the gate does beyond that (decide, digest the arguments, check its records, track
 *   requests) is what the targets below bound.
 * - decide hop: the record hop plus the two things no gate that enforces these packs and keeps the
 *   record's `arguments_digest` can skip (the same fixture with `--decide`): each tools/call is
 *   decided by the library's decide() (dist/index.js) against the gated setup's packs, and its
 *   arguments digested (RFC 8785 + sha256), both written into its record. No session state, no
 *   message checks, no request tracking: a floor under a gate built on today's decide(), shown
 *   for reference (no target), to tell the gate's bookkeeping apart from deciding and digesting.
 * - embedded: the gate in this process (createGate, the library's gate) around a connection to
 *   the server's stdio: the same packs, a decision log of its own, no extra process. The client
 *   hands it the message it would have written (the request line, parsed) and the connection
 *   writes it as a line, so parsing and re-encoding are charged to the gate, as in `assay mcp
 *   wrap`. Shown for reference: it tells the gate's own work apart from the cost of a process
 *   hop. Its garbage is collected in this process, so part of that cost lands in the other
 *   setups' rounds. It runs the tsc build (dist/index.js), as library users do, not src/ through
 *   tsx (whose keepNames wraps each closure the hot path creates in a __name() call).
 *
 * The client is a lean hand-written newline-delimited JSON-RPC driver (no SDK): it writes one
 * prebuilt request line, waits for the response with that id, and parses it. Each session does
 * initialize, notifications/initialized and tools/list first (`echo` must be listed, so the
 * gate's filter kept it). Every tools/call response is checked before its time counts: a result
 * (not an error), not `isError`, no gate decision in `_meta`, and the text `Echo: <message>` of
 * that very call; afterwards the decision log must hold exactly one `forwarded` record per gated
 * call.
 *
 * Latency: sequential round trips (one call in flight), timed with process.hrtime.bigint() from
 * just before the write to just after the response is parsed, client time included and the same
 * in every setup. After a warm-up of every setup, the measured calls run in ROUNDS rounds; each
 * round runs one block per setup, in an order that rotates from round to round, so machine
 * noise is shared. `added_p50_us` / `added_p99_us` are gated minus direct percentiles of the
 * pooled samples (a difference of percentiles, not a percentile of differences);
 * `gated_minus_record_hop_p50_us` is gated minus record hop p50, the same way.
 *
 * Throughput: a separate pipelined phase keeps PIPELINE requests in flight per setup (a new one
 * is sent as each answer arrives), again in alternating rounds; calls/s = answered calls / wall
 * time; every answer is checked as above. This is what a client that issues concurrent calls
 * sees; with one call in flight, calls/s is just 1e6 / mean latency (the table's "seq calls/s").
 * The warm-up runs both phases once per setup.
 *
 * CPU per call: the user + system time the proxy process used (all threads: each thread's
 * /proc schedstat when the same threads are there at both ends of a round, else /proc/<pid>/stat)
 * during each timed phase, divided by the calls. Less sensitive to other load than wall time.
 *
 * createGate's own CPU (`embedded_gate_cpu_us_per_call_added`), measured first, before any server
 * starts: in this process, with no pipe and no server process, the same calls (`echo`, checked
 * as above, one at a time) go over an in-memory transport pair (the MCP SDK's InMemoryTransport)
 * to a handler that answers them, once as they are and once through createGate (same packs, a
 * FileDecisionLog of its own, checked afterwards like the others). Blocks of EMBED_PER_ROUND
 * calls alternate between the two for EMBED_ROUNDS rounds after a warm-up; process.cpuUsage()
 * around each block. The figure is the median over rounds of (gated block CPU − plain block
 * CPU) / calls: what the gate adds to a call, decision log write included.
 *
 * The decide hop's figures against the record hop (`decide_hop_vs_record_hop_throughput`,
 * `decide_hop_minus_record_hop_p50_us`, `decide_hop_vs_record_hop_cpu_pipelined`) are printed the
 * same way as the gate's, with no target: they say what the targets leave once a call is decided.
 *
 * Targets, all relative to references measured in the same run (the machine is shared: client,
 * proxy and server are three processes on however many cores there are, 2 here, so absolute
 * figures say more about the machine than about the gate):
 * - calls_per_sec_gated >= 0.9 × calls_per_sec_record_hop (`gated_vs_record_hop_throughput`);
 * - gated_p50_us <= record_hop_p50_us + 25 (`gated_minus_record_hop_p50_us`);
 * - gate_cpu_us_per_call_pipelined <= 1.3 × record_hop_cpu_us_per_call_pipelined;
 * - embedded_gate_cpu_us_per_call_added <= 15.
 * They are printed next to the figures, never asserted, each judged on its figure as printed:
 * computed from unrounded measurements and rounded toward missing its limit (a CPU ratio of 1.309
 * prints as 1.31, a throughput ratio of 0.899 as 0.89). The JSON line carries each as
 * `targets.<name>` = {value, limit, met} and `targets_met`. Any argument but `--json` and
 * `--cpu-prof` is a usage error (exit 2); so is a measurement that fails (one line on stderr). With `--json` the last stdout line is
 * one JSON object. `--cpu-prof` runs the gate with `node --cpu-prof` and prints where the
 * profile went (the timings are then inflated by the profiler).
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import type { Transport } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";
import type { Gate } from "../src/gate/create-gate.js";
import type { GatedTransport } from "../src/gate/gated-transport.js";
import type { CompiledPolicy } from "../src/policy/ir.js";
import { APP_PACK, EVERYTHING_SERVER, ROOT } from "./gate-setup.js";
import { mean, median, newest, percentile, round, roundTowardMiss, table } from "./stats.js";

/** The two switches; anything else is a usage error (exit 2), not silently ignored. */
function parseArgs(argv: readonly string[]): { json: boolean; cpuProf: boolean } {
  const out = { json: false, cpuProf: false };
  for (const a of argv) {
    if (a === "--json") out.json = true;
    else if (a === "--cpu-prof") out.cpuProf = true;
    else {
      console.error(`bench:gate: unknown argument \`${a}\``);
      console.error("usage: npm run bench:gate -- [--json] [--cpu-prof]");
      process.exit(2);
    }
  }
  return out;
}

const { json: JSON_OUT, cpuProf: CPU_PROF } = parseArgs(process.argv.slice(2));

// The in-process gate runs as library users run it: the tsc build (dist/index.js), which
// `npm run bench:gate` builds first. Under tsx, esbuild's keepNames would wrap every closure the
// hot path creates in a __name() call that the shipped build does not have (as bench:policy notes).
const lib: typeof import("../src/index.js") = await import(new URL("../dist/index.js", import.meta.url).href);
const { createGate, FileDecisionLog, parseDecisionLog } = lib;
const compilePacks = async (paths: readonly string[]) =>
  lib.compilePolicy(await Promise.all(paths.map((p) => lib.loadPack(p))));

const ROUNDS = 32;
const PER_ROUND = 250; // sequential calls per setup per round: 8,000 measured per setup
const WARMUP = 1500;
const PIPELINE = 16;
const THROUGHPUT_ROUNDS = 6;
const THROUGHPUT_PER_ROUND = 2000;
const EMBED_WARMUP = 3000;
const EMBED_ROUNDS = 24;
const EMBED_PER_ROUND = 2000;

/** Issue 16's targets, each against a reference measured in the same run. */
const LIMITS = {
  /** calls_per_sec_gated / calls_per_sec_record_hop, at least. */
  gated_vs_record_hop_throughput: 0.9,
  /** gated_p50_us − record_hop_p50_us, at most (µs). */
  gated_minus_record_hop_p50_us: 25,
  /** gate_cpu_us_per_call_pipelined / record_hop_cpu_us_per_call_pipelined, at most. */
  gate_vs_record_hop_cpu_pipelined: 1.3,
  /** What createGate adds to a call over an in-memory transport pair, at most (µs CPU). */
  embedded_gate_cpu_us_per_call_added: 15,
};

const SERVER = EVERYTHING_SERVER;
const MCP_PROXY_VERSION = (createRequire(import.meta.url)("mcp-proxy/package.json") as { version: string })
  .version;

// ---------------------------------------------------------------------------------------------
// The lean client.

interface RpcMessage {
  id?: number | string | null;
  method?: string;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

/** One MCP session over a subprocess's stdio: newline-delimited JSON-RPC, nothing else. */
class StdioPeer {
  private readonly child: ChildProcess;
  private readonly waiting = new Map<number, (msg: RpcMessage) => void>();
  private buf = "";
  private stderr = "";
  private nextId = 1;
  private exited: Promise<number | null>;
  /** The first error the embedded gate reported; the run fails on it. */
  failure: Error | undefined;
  /** Server-to-client notifications seen (not answered, not timed). */
  notifications = 0;

  /** With an in-process gate: what the client sends and receives goes through it (createGate). */
  private readonly gated: GatedTransport | undefined;
  /** The connection the gate wraps: messages as objects, one line each on the server's stdio. */
  private readonly inner: Transport | undefined;

  constructor(
    readonly name: string,
    argv: readonly string[],
    gate?: Gate,
  ) {
    const [command, ...args] = argv;
    this.child = spawn(command as string, args, { cwd: ROOT, stdio: ["pipe", "pipe", "pipe"] });
    if (gate) {
      const stdin = this.child.stdin;
      this.inner = {
        start: async () => {},
        send: async (msg) => {
          stdin?.write(`${JSON.stringify(msg)}\n`);
        },
        close: async () => {
          stdin?.end();
        },
      };
      this.gated = gate.wrap(this.inner);
      this.gated.onmessage = (msg) => this.onMessage(msg as RpcMessage);
      // Whatever the gate reports (a throw in onMessage lands here too) fails the run.
      this.gated.onerror = (err) => {
        this.failure ??= err;
        this.failAll(err);
      };
      void this.gated.start();
    }
    this.child.stdout?.setEncoding("utf8");
    this.child.stdout?.on("data", (chunk: string) => this.onData(chunk));
    this.child.stderr?.setEncoding("utf8");
    this.child.stderr?.on("data", (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    this.exited = new Promise((resolve) => this.child.on("exit", (code) => resolve(code)));
    this.exited.then((code) => {
      for (const fail of this.waiting.values())
        fail({ error: { code: -1, message: `${this.name}: process exited (${code}): ${this.stderr}` } });
      this.waiting.clear();
    });
  }

  private onData(chunk: string): void {
    this.buf += chunk;
    let nl = this.buf.indexOf("\n");
    while (nl >= 0) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (line.trim() === "") {
      } else if (this.inner) this.inner.onmessage?.(JSON.parse(line) as JSONRPCMessage);
      else this.onMessage(JSON.parse(line) as RpcMessage);
      nl = this.buf.indexOf("\n");
    }
  }

  private onMessage(msg: RpcMessage): void {
    if (msg.method !== undefined) {
      if (msg.id === undefined) {
        this.notifications++;
        return;
      }
      // A server-to-client request: this client offers no capabilities, so say so.
      this.write(
        `{"jsonrpc":"2.0","id":${JSON.stringify(msg.id)},"error":{"code":-32601,"message":"not supported"}}`,
      );
      return;
    }
    const done = typeof msg.id === "number" ? this.waiting.get(msg.id) : undefined;
    if (!done) throw new Error(`${this.name}: response to an unknown id: ${JSON.stringify(msg)}`);
    this.waiting.delete(msg.id as number);
    done(msg);
  }

  private write(line: string): void {
    // The embedded gate takes the message the client would have written (parsed from that line).
    if (this.gated) this.gated.send(JSON.parse(line) as JSONRPCMessage).catch((err) => this.failAll(err));
    else this.child.stdin?.write(`${line}\n`);
  }

  private failAll(err: unknown): void {
    for (const fail of this.waiting.values())
      fail({ error: { code: -1, message: `${this.name}: ${(err as Error).message}` } });
    this.waiting.clear();
  }

  /** Send a request line built by `line(id)` and resolve with its response. */
  send(line: (id: number) => string): Promise<RpcMessage> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.write(line(id));
    });
  }

  request(method: string, params: unknown): Promise<RpcMessage> {
    return this.send((id) => JSON.stringify({ jsonrpc: "2.0", id, method, params }));
  }

  notify(method: string): void {
    this.write(JSON.stringify({ jsonrpc: "2.0", method }));
  }

  /** Close stdin (the client leaves), then wait for the process; SIGKILL after a grace period. */
  async close(): Promise<number | null> {
    if (this.gated) await this.gated.close();
    this.child.stdin?.end();
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 8000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  get stderrTail(): string {
    return this.stderr;
  }

  /** The CPU time (user + system) the process has used so far; `cpuSpentUs` takes the difference. */
  cpu(): CpuReading {
    return readCpu(this.child.pid);
  }
}

/**
 * CPU time of a process so far, all its threads, read two ways: the sum of each thread's
 * `schedstat` (nanoseconds) where the kernel has it, with the threads it was summed over, and
 * `/proc/<pid>/stat`'s user + system time (clock ticks, 10 ms here), which keeps the time of
 * threads that have ended. A pipelined round of 2,000 calls takes 20-40 ms of a hop's CPU, so a
 * reading in ticks can be off by up to half a round's figure: schedstat is used whenever it can be.
 * (The pipelined figures still move from run to run with how the hops' reads batch: the gate's
 * CPU ratio 1.44-1.69 in four runs of one build.)
 */
interface CpuReading {
  schedNs: number;
  threads: string;
  tickUs: number;
}

function readCpu(pid: number | undefined): CpuReading {
  let schedNs = Number.NaN;
  let threads = "";
  let tickUs = Number.NaN;
  try {
    // Fields after the `(comm)`: state is 3rd, utime 14th, stime 15th (clock ticks).
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    tickUs = ((Number(fields[11]) + Number(fields[12])) * 1e6) / CLOCK_TICKS;
    if (SCHEDSTAT) {
      const tids = readdirSync(`/proc/${pid}/task`).sort();
      schedNs = 0;
      for (const tid of tids) {
        try {
          schedNs += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
        } catch {
          // Ended between the listing and the read: the thread set differs from the listing's.
          threads = "?";
        }
      }
      threads ||= tids.join(",");
    }
  } catch {
    // No /proc, or the process is gone: NaN.
  }
  return { schedNs, threads, tickUs };
}

/**
 * µs of CPU between two readings: schedstat's when the same threads were there at both (a thread
 * that ended in between takes its time out of the later sum), else the clock ticks. A thread that
 * both started and ended in between is missed; Node's and V8's threads live as long as the process.
 */
function cpuSpentUs(before: CpuReading, after: CpuReading): number {
  const sameThreads = before.threads !== "?" && before.threads === after.threads;
  if (sameThreads && Number.isFinite(before.schedNs) && Number.isFinite(after.schedNs))
    return (after.schedNs - before.schedNs) / 1000;
  return after.tickUs - before.tickUs;
}

const SCHEDSTAT = existsSync("/proc/self/schedstat");

const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/** The echo call: the message is derived from the id, so each answer can be matched to its call. */
const echoLine = (id: number) =>
  `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":{"message":"bench ${id}"}}}`;

/** Throw unless `msg` is the echo tool's own answer to call `id` (not an error, not a gate deny). */
function checkEcho(name: string, id: number | undefined, msg: RpcMessage): void {
  const r = msg.result;
  const content = r?.content as { type?: string; text?: string }[] | undefined;
  const meta = r?._meta as Record<string, unknown> | undefined;
  if (
    msg.error !== undefined ||
    r === undefined ||
    r.isError === true ||
    (meta !== undefined && "dev.assay/decision" in meta) ||
    content?.[0]?.text !== `Echo: bench ${id}`
  ) {
    throw new Error(`${name}: call ${id} did not get the echo result: ${JSON.stringify(msg)}`);
  }
}

async function openSession(peer: StdioPeer): Promise<void> {
  const init = await peer.request("initialize", {
    protocolVersion: "2025-06-18",
    capabilities: {},
    clientInfo: { name: "assay-bench", version: "1.0.0" },
  });
  if (init.error || init.result?.protocolVersion === undefined)
    throw new Error(`${peer.name}: initialize failed: ${JSON.stringify(init)} ${peer.stderrTail}`);
  peer.notify("notifications/initialized");
  const list = await peer.request("tools/list", {});
  const tools = (list.result?.tools as { name: string }[] | undefined)?.map((t) => t.name) ?? [];
  if (!tools.includes("echo")) throw new Error(`${peer.name}: echo is not listed: ${JSON.stringify(list)}`);
}

/** `n` sequential calls; fills `out` from `offset` with each round trip in ns. */
async function sequential(peer: StdioPeer, n: number, out?: Float64Array, offset = 0): Promise<void> {
  let id: number | undefined;
  const line = (i: number) => {
    id = i;
    return echoLine(i);
  };
  for (let k = 0; k < n; k++) {
    const t0 = process.hrtime.bigint();
    const msg = await peer.send(line);
    const t1 = process.hrtime.bigint();
    checkEcho(peer.name, id, msg);
    if (out) out[offset + k] = Number(t1 - t0);
  }
}

/** `n` calls with `depth` in flight; returns the wall time in ns. */
async function pipelined(peer: StdioPeer, n: number, depth: number): Promise<number> {
  let sent = 0;
  const worker = async () => {
    while (sent < n) {
      sent++;
      let id: number | undefined;
      const msg = await peer.send((i) => {
        id = i;
        return echoLine(i);
      });
      checkEcho(peer.name, id, msg);
    }
  };
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: depth }, worker));
  return Number(process.hrtime.bigint() - t0);
}

// ---------------------------------------------------------------------------------------------
// createGate's own cost: the same calls over an in-memory transport pair, with and without it.

/** One client connection over an in-memory pair whose other end answers like server-everything's echo. */
function memoryConnection(gate?: Gate) {
  const [client, server] = InMemoryTransport.createLinkedPair();
  server.onmessage = (m) => {
    const msg = m as { id?: number; method?: string; params?: { arguments?: { message?: unknown } } };
    if (msg.id === undefined) return;
    const result =
      msg.method === "tools/call"
        ? { content: [{ type: "text", text: `Echo: ${msg.params?.arguments?.message}` }] }
        : msg.method === "tools/list"
          ? {
              tools: [
                {
                  name: "echo",
                  inputSchema: { type: "object", properties: { message: { type: "string" } } },
                },
              ],
            }
          : undefined;
    void server.send(
      result
        ? { jsonrpc: "2.0", id: msg.id, result }
        : { jsonrpc: "2.0", id: msg.id, error: { code: -32601, message: "not supported" } },
    );
  };
  const transport: Transport = gate ? gate.wrap(client) : client;
  const waiting = new Map<number, (msg: RpcMessage) => void>();
  let failure: Error | undefined;
  transport.onmessage = (m) => {
    const msg = m as RpcMessage;
    const done = typeof msg.id === "number" ? waiting.get(msg.id) : undefined;
    if (!done) return;
    waiting.delete(msg.id as number);
    done(msg);
  };
  transport.onerror = (err) => {
    failure ??= err;
  };
  let nextId = 0;
  const request = async (
    message: (id: number) => JSONRPCMessage,
  ): Promise<{ id: number; msg: RpcMessage }> => {
    const id = ++nextId;
    const answer = new Promise<RpcMessage>((resolve) => waiting.set(id, resolve));
    await transport.send(message(id));
    const msg = await answer;
    if (failure) throw failure;
    return { id, msg };
  };
  const name = gate ? "in-process gate" : "in-process pair";
  return {
    start: async () => {
      await server.start();
      await transport.start();
      const { msg } = await request((id) => ({ jsonrpc: "2.0", id, method: "tools/list" }));
      const tools = (msg.result?.tools as { name: string }[] | undefined)?.map((t) => t.name) ?? [];
      if (!tools.includes("echo")) throw new Error(`in-process: echo is not listed: ${JSON.stringify(msg)}`);
    },
    /** `n` echo calls, one at a time, each answer checked. */
    calls: async (n: number) => {
      for (let k = 0; k < n; k++) {
        const { id, msg } = await request((i) => ({
          jsonrpc: "2.0",
          id: i,
          method: "tools/call",
          params: { name: "echo", arguments: { message: `bench ${i}` } },
        }));
        checkEcho(name, id, msg);
      }
    },
    close: () => transport.close(),
  };
}

/**
 * CPU per call over an in-memory pair, plain and through createGate, in alternating blocks; the
 * figure is the median over rounds of the difference. The gate's decision log is checked after.
 */
async function embeddedCost(policy: CompiledPolicy, logPath: string) {
  const sink = await FileDecisionLog.open(logPath);
  const plain = memoryConnection();
  const gated = memoryConnection(createGate({ policy, sink }));
  const plainUs: number[] = [];
  const gatedUs: number[] = [];
  try {
    await plain.start();
    await gated.start();
    await plain.calls(EMBED_WARMUP);
    await gated.calls(EMBED_WARMUP);
    for (let r = 0; r < EMBED_ROUNDS; r++) {
      for (const c of r % 2 === 0 ? [plain, gated] : [gated, plain]) {
        const t0 = process.cpuUsage();
        await c.calls(EMBED_PER_ROUND);
        const t = process.cpuUsage(t0);
        (c === plain ? plainUs : gatedUs).push((t.user + t.system) / EMBED_PER_ROUND);
      }
    }
  } finally {
    await plain.close();
    await gated.close();
    await sink.close();
  }
  const calls = EMBED_WARMUP + EMBED_ROUNDS * EMBED_PER_ROUND;
  const records = parseDecisionLog(readFileSync(logPath, "utf8"));
  const ids = new Set<unknown>();
  for (const e of records)
    if (e.type === "assay.tool.decision" && e.data.outcome === "forwarded" && e.data.tool === "echo")
      ids.add(e.data.request_id);
  if (records.length !== calls || ids.size !== calls)
    throw new Error(
      `in-process decision log: expected ${calls} forwarded echo decisions with distinct ids, found ${records.length} records, ${ids.size} distinct`,
    );
  return {
    calls: EMBED_ROUNDS * EMBED_PER_ROUND,
    plainUs: median(plainUs),
    gatedUs: median(gatedUs),
    addedUs: median(gatedUs.map((g, i) => g - (plainUs[i] as number))),
  };
}

// ---------------------------------------------------------------------------------------------

interface Setup {
  key: "direct" | "gated" | "peer" | "pipe" | "record" | "decide" | "embedded";
  label: string;
  peer: StdioPeer;
  samples: Float64Array;
  roundP50: number[];
  throughputNs: number;
  /** CPU the proxy process (for direct and embedded, the server) used in the timed phases, in µs. */
  cpuSeqUs: number;
  cpuPipelinedUs: number;
}

const PIPE_HOP = [
  'const { spawn } = require("node:child_process");',
  'const c = spawn(process.argv[1], process.argv.slice(2), { stdio: ["pipe", "pipe", "inherit"] });',
  "process.stdin.pipe(c.stdin); c.stdout.pipe(process.stdout);",
  "c.on('exit', (code) => process.exit(code ?? 1));",
].join(" ");

async function main(): Promise<void> {
  const started = process.hrtime.bigint();
  if (newest(join(ROOT, "src"), ".ts") > newest(join(ROOT, "dist"), ".js"))
    console.error("warning: dist/ is older than src/; run `npm run build` to measure the current code");

  const tmp = mkdtempSync(join(tmpdir(), "assay-bench-gate-"));
  const log = join(tmp, "decisions.ndjson");
  const profDir = join(tmp, "cpu-prof");
  const recordLog = join(tmp, "record-hop.ndjson");
  const decideLog = join(tmp, "decide-hop.ndjson");

  const gateNode = CPU_PROF
    ? [process.execPath, "--cpu-prof", "--cpu-prof-dir", profDir]
    : [process.execPath];
  const argvs: Record<Setup["key"], string[]> = {
    direct: SERVER,
    gated: [
      ...gateNode,
      join(ROOT, "bin/assay"),
      "mcp",
      "wrap",
      "--policy",
      join(ROOT, "packs/mcp-baseline.yaml"),
      "--policy",
      APP_PACK,
      "--decision-log",
      log,
      "--",
      ...SERVER,
    ],
    peer: [process.execPath, join(ROOT, "bench/fixtures/mcp-proxy-stdio.mjs"), ...SERVER],
    pipe: [process.execPath, "-e", PIPE_HOP, ...SERVER],
    record: [process.execPath, join(ROOT, "bench/fixtures/record-hop.mjs"), recordLog, ...SERVER],
    decide: [
      process.execPath,
      join(ROOT, "bench/fixtures/record-hop.mjs"),
      "--decide",
      join(ROOT, "packs/mcp-baseline.yaml"),
      "--decide",
      APP_PACK,
      decideLog,
      ...SERVER,
    ],
    embedded: SERVER,
  };
  const labels: Record<Setup["key"], string> = {
    direct: "direct",
    gated: "gated (assay mcp wrap)",
    peer: `peer (mcp-proxy ${MCP_PROXY_VERSION})`,
    pipe: "pipe hop (reference)",
    record: "record hop (reference)",
    decide: "decide hop (reference)",
    embedded: "embedded gate (createGate)",
  };
  const policy = await compilePacks([join(ROOT, "packs/mcp-baseline.yaml"), APP_PACK]);
  // createGate's own cost, first: in this process, before any server starts or other setup runs.
  const inProcess = await embeddedCost(policy, join(tmp, "in-process-decisions.ndjson"));
  // The same packs and a decision log of its own, in this process (the library's gate, §3).
  const embeddedLog = join(tmp, "embedded-decisions.ndjson");
  const embeddedSink = await FileDecisionLog.open(embeddedLog);
  const embeddedGate = createGate({ policy, sink: embeddedSink });
  const measured = ROUNDS * PER_ROUND;
  const setups: Setup[] = (Object.keys(argvs) as Setup["key"][]).map((key) => ({
    key,
    label: labels[key],
    peer: new StdioPeer(key, argvs[key], key === "embedded" ? embeddedGate : undefined),
    samples: new Float64Array(measured),
    roundP50: [],
    throughputNs: 0,
    cpuSeqUs: 0,
    cpuPipelinedUs: 0,
  }));
  const byKey = (k: Setup["key"]) => setups.find((s) => s.key === k) as Setup;

  let exitCodes: (number | null)[] = [];
  try {
    await Promise.all(setups.map((s) => openSession(s.peer)));
    for (const s of setups) await sequential(s.peer, WARMUP);
    for (const s of setups) await pipelined(s.peer, WARMUP, PIPELINE);

    for (let r = 0; r < ROUNDS; r++) {
      for (let j = 0; j < setups.length; j++) {
        const s = setups[(r + j) % setups.length] as Setup;
        const cpu0 = s.peer.cpu();
        await sequential(s.peer, PER_ROUND, s.samples, r * PER_ROUND);
        s.cpuSeqUs += cpuSpentUs(cpu0, s.peer.cpu());
        const block = s.samples.slice(r * PER_ROUND, (r + 1) * PER_ROUND).sort();
        s.roundP50.push(percentile(block, 0.5));
      }
    }
    for (let r = 0; r < THROUGHPUT_ROUNDS; r++) {
      for (let j = 0; j < setups.length; j++) {
        const s = setups[(r + j) % setups.length] as Setup;
        const cpu0 = s.peer.cpu();
        s.throughputNs += await pipelined(s.peer, THROUGHPUT_PER_ROUND, PIPELINE);
        s.cpuPipelinedUs += cpuSpentUs(cpu0, s.peer.cpu());
      }
    }
  } finally {
    try {
      exitCodes = await Promise.all(setups.map((s) => s.peer.close()));
    } finally {
      await embeddedSink.close();
    }
  }
  for (const s of setups)
    if (s.peer.failure) throw new Error(`${s.peer.name}: the gate reported: ${s.peer.failure.message}`);

  // The decision log: the gate's start record, then exactly one `forwarded` decision per gated
  // tools/call, nothing else.
  const gatedCalls = 2 * WARMUP + measured + THROUGHPUT_ROUNDS * THROUGHPUT_PER_ROUND;
  const records = readFileSync(log, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as { type: string; data: { outcome: string; latency_us: number } });
  const decisions = records.filter((e) => e.type === "assay.tool.decision");
  const forwarded = decisions.filter((e) => e.data.outcome === "forwarded").length;
  const starts = records.filter((e) => e.type === "assay.gate.started").length;
  if (starts !== 1 || records.length !== gatedCalls + 1 || forwarded !== gatedCalls)
    throw new Error(
      `decision log: expected a start record and ${gatedCalls} forwarded decisions, found ${records.length} records, ${starts} start, ${forwarded} forwarded`,
    );
  const decideUs = Float64Array.from(decisions, (e) => e.data.latency_us).sort();
  // The embedded gate's log: one `forwarded` decision of `echo` per call, each its own request
  // id, nothing else.
  const embeddedRecords = parseDecisionLog(readFileSync(embeddedLog, "utf8"));
  const embeddedIds = new Set<unknown>();
  for (const e of embeddedRecords)
    if (e.type === "assay.tool.decision" && e.data.outcome === "forwarded" && e.data.tool === "echo")
      embeddedIds.add(e.data.request_id);
  if (embeddedRecords.length !== gatedCalls || embeddedIds.size !== gatedCalls)
    throw new Error(
      `embedded decision log: expected ${gatedCalls} forwarded echo decisions with distinct ids, found ${embeddedRecords.length} records, ${embeddedIds.size} distinct`,
    );
  // The decide hop's log: one record per tools/call, each decided by the allow-list's rule and
  // with its arguments' digest (so both really ran), besides a record per other message.
  const decideRecords = readFileSync(decideLog, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as { rule_id?: unknown; arguments_digest?: unknown });
  const decided = decideRecords.filter((e) => e.rule_id !== undefined);
  const allowed = decided.filter(
    (e) =>
      e.rule_id === "app-tools" &&
      typeof e.arguments_digest === "string" &&
      /^sha256:[0-9a-f]{64}$/.test(e.arguments_digest),
  ).length;
  if (decided.length !== gatedCalls || allowed !== gatedCalls)
    throw new Error(
      `decide hop log: expected ${gatedCalls} tools/call records allowed by app-tools with a digest, found ${decided.length} decided, ${allowed} so`,
    );
  const logBytes = statSync(log).size;

  if (CPU_PROF) console.error(`gate CPU profile written to ${profDir}`);
  else rmSync(tmp, { recursive: true, force: true });

  // ---------------------------------------------------------------------------------------------

  const stats = new Map<Setup["key"], { p50: number; p90: number; p99: number; mean: number }>();
  for (const s of setups) {
    s.samples.sort();
    stats.set(s.key, {
      p50: percentile(s.samples, 0.5) / 1000,
      p90: percentile(s.samples, 0.9) / 1000,
      p99: percentile(s.samples, 0.99) / 1000,
      mean: mean(s.samples) / 1000,
    });
  }
  const st = (k: Setup["key"]) => stats.get(k) as { p50: number; p90: number; p99: number; mean: number };
  const direct = st("direct");
  const gated = st("gated");
  const addedP50 = gated.p50 - direct.p50;
  const addedP99 = gated.p99 - direct.p99;
  const pipeAddedP50 = st("pipe").p50 - direct.p50;
  const roundAdded = byKey("gated").roundP50.map((g, i) => (g - (byKey("direct").roundP50[i] ?? 0)) / 1000);
  const roundVsRecord = byKey("gated").roundP50.map(
    (g, i) => (g - (byKey("record").roundP50[i] ?? 0)) / 1000,
  );
  const roundDecideVsRecord = byKey("decide").roundP50.map(
    (g, i) => (g - (byKey("record").roundP50[i] ?? 0)) / 1000,
  );
  const cps = (k: Setup["key"]) => (THROUGHPUT_ROUNDS * THROUGHPUT_PER_ROUND) / (byKey(k).throughputNs / 1e9);
  const ratio = cps("gated") / cps("direct");
  const embedded = st("embedded");
  const embeddedRatio = cps("embedded") / cps("direct");
  const pipeRatio = cps("pipe") / cps("direct");
  const recordRatio = cps("record") / cps("direct");
  const totalS = Number(process.hrtime.bigint() - started) / 1e9;
  const cpuSeq = (k: Setup["key"]) => byKey(k).cpuSeqUs / measured;
  const cpuPipelined = (k: Setup["key"]) =>
    byKey(k).cpuPipelinedUs / (THROUGHPUT_ROUNDS * THROUGHPUT_PER_ROUND);

  // The targets, judged on the figures as printed: each computed from unrounded measurements and
  // rounded toward missing its limit, so the printed figure is never kinder than the measured one.
  const vsRecordThroughput = roundTowardMiss(cps("gated") / cps("record"), 2, "min");
  const minusRecordP50 = roundTowardMiss(gated.p50 - st("record").p50, 1, "max");
  const gateCpu = round(cpuPipelined("gated"), 1);
  const recordCpu = round(cpuPipelined("record"), 1);
  const cpuRatio = roundTowardMiss(cpuPipelined("gated") / cpuPipelined("record"), 2, "max");
  // The decide hop against the record hop, figured as the targets are (no target of its own).
  const decideVsRecordThroughput = roundTowardMiss(cps("decide") / cps("record"), 2, "min");
  const decideMinusRecordP50 = roundTowardMiss(st("decide").p50 - st("record").p50, 1, "max");
  const decideCpu = round(cpuPipelined("decide"), 1);
  const decideCpuRatio = roundTowardMiss(cpuPipelined("decide") / cpuPipelined("record"), 2, "max");
  const embeddedAdded = roundTowardMiss(inProcess.addedUs, 1, "max");
  const targets = {
    gated_vs_record_hop_throughput: {
      value: vsRecordThroughput,
      limit: LIMITS.gated_vs_record_hop_throughput,
      met: vsRecordThroughput >= LIMITS.gated_vs_record_hop_throughput,
    },
    gated_minus_record_hop_p50_us: {
      value: minusRecordP50,
      limit: LIMITS.gated_minus_record_hop_p50_us,
      met: minusRecordP50 <= LIMITS.gated_minus_record_hop_p50_us,
    },
    gate_vs_record_hop_cpu_pipelined: {
      value: cpuRatio,
      limit: LIMITS.gate_vs_record_hop_cpu_pipelined,
      met: cpuRatio <= LIMITS.gate_vs_record_hop_cpu_pipelined,
    },
    embedded_gate_cpu_us_per_call_added: {
      value: embeddedAdded,
      limit: LIMITS.embedded_gate_cpu_us_per_call_added,
      met: embeddedAdded <= LIMITS.embedded_gate_cpu_us_per_call_added,
    },
  };
  const targetsMet = Object.values(targets).every((t) => t.met);

  const mark = (ok: boolean) => (ok ? "met" : "MISSED");
  const us = (v: number) => `${v.toFixed(1)} µs`;
  const n = (v: number) => Math.round(v).toLocaleString("en-US");
  const spread = (v: number[]) =>
    v.length === 0
      ? "-"
      : `${Math.min(...v).toFixed(1)} / ${median(v).toFixed(1)} / ${Math.max(...v).toFixed(1)} µs`;
  console.log(
    `gate benchmark — node ${process.version}, ${process.platform}/${process.arch}; server ` +
      `@modelcontextprotocol/server-everything (echo); ${n(measured)} timed sequential calls per setup ` +
      `in ${ROUNDS} alternating rounds after ${n(WARMUP)} warm-up; throughput ${n(THROUGHPUT_ROUNDS * THROUGHPUT_PER_ROUND)} ` +
      `calls per setup with ${PIPELINE} in flight`,
  );
  console.log(
    `gated: packs/mcp-baseline.yaml + an allow-list pack, decision log ${n(records.length)} records ` +
      `(${(logBytes / 1e6).toFixed(1)} MB), all forwarded; peer: mcp-proxy ${MCP_PROXY_VERSION} proxyServer() ` +
      "wired stdio→stdio (bench/fixtures/mcp-proxy-stdio.mjs)",
  );
  console.log("");
  console.log(
    table([
      [
        "setup",
        "p50",
        "p90",
        "p99",
        "mean",
        "seq calls/s",
        `calls/s (${PIPELINE} in flight)`,
        "CPU/call seq / pipelined",
      ],
      ...setups.map((s) => {
        const x = st(s.key);
        return [
          s.label,
          us(x.p50),
          us(x.p90),
          us(x.p99),
          us(x.mean),
          n(1e6 / x.mean),
          n(cps(s.key)),
          // For direct and embedded, the server process's.
          `${us(cpuSeq(s.key))} / ${us(cpuPipelined(s.key))}${s.key === "direct" || s.key === "embedded" ? " (server)" : ""}`,
        ];
      }),
    ]),
  );
  console.log("");
  console.log(
    table([
      ["target (against the record hop, same run)", "value", "limit", ""],
      [
        "gated / record hop throughput",
        `${vsRecordThroughput.toFixed(2)}× (${n(cps("gated"))} / ${n(cps("record"))} calls/s)`,
        `≥ ${LIMITS.gated_vs_record_hop_throughput}×`,
        mark(targets.gated_vs_record_hop_throughput.met),
      ],
      [
        "gated − record hop p50",
        us(minusRecordP50),
        `≤ ${LIMITS.gated_minus_record_hop_p50_us} µs`,
        mark(targets.gated_minus_record_hop_p50_us.met),
      ],
      [
        "CPU per call, pipelined: gate / record hop",
        `${cpuRatio.toFixed(2)}× (${us(gateCpu)} / ${us(recordCpu)})`,
        `≤ ${LIMITS.gate_vs_record_hop_cpu_pipelined}×`,
        mark(targets.gate_vs_record_hop_cpu_pipelined.met),
      ],
      [
        "createGate's added CPU per call (in-process pair)",
        `${us(embeddedAdded)} (${us(inProcess.gatedUs)} − ${us(inProcess.plainUs)})`,
        `≤ ${LIMITS.embedded_gate_cpu_us_per_call_added} µs`,
        mark(targets.embedded_gate_cpu_us_per_call_added.met),
      ],
    ]),
  );
  console.log("");
  console.log(
    table([
      ["reference figure (no target)", "value"],
      ["gated − record hop p50 per round (min / median / max)", spread(roundVsRecord)],
      [
        "decide hop / record hop: throughput; p50 gap; pipelined CPU",
        `${decideVsRecordThroughput.toFixed(2)}×; ${us(decideMinusRecordP50)}; ${decideCpuRatio.toFixed(2)}× (${us(decideCpu)} / ${us(recordCpu)})`,
      ],
      ["decide hop − record hop p50 per round (min / median / max)", spread(roundDecideVsRecord)],
      ["added p50 / p99 (gated − direct)", `${us(addedP50)} / ${us(addedP99)}`],
      ["added p50 per round (min / median / max)", spread(roundAdded)],
      ["gated / direct throughput", `${ratio.toFixed(2)}×`],
      [
        "peer (mcp-proxy) added p50 / p99",
        `${us(st("peer").p50 - direct.p50)} / ${us(st("peer").p99 - direct.p99)}`,
      ],
      ["pipe hop added p50 / p99", `${us(pipeAddedP50)} / ${us(st("pipe").p99 - direct.p99)}`],
      ["throughput / direct: pipe hop; record hop", `${pipeRatio.toFixed(2)}×; ${recordRatio.toFixed(2)}×`],
      [
        "embedded gate (createGate over stdio, no hop) added p50 / p99; throughput",
        `${us(embedded.p50 - direct.p50)} / ${us(embedded.p99 - direct.p99)}; ${embeddedRatio.toFixed(2)}×`,
      ],
      [
        "gate decision (log latency_us) p50 / p99",
        `${percentile(decideUs, 0.5).toFixed(1)} / ${percentile(decideUs, 0.99).toFixed(1)} µs`,
      ],
    ]),
  );
  console.log("");
  console.log(
    `server notifications seen: ${setups.map((s) => `${s.key} ${s.peer.notifications}`).join(", ")}; ` +
      `exit codes ${exitCodes.join(" ")}; total benchmark time ${totalS.toFixed(1)} s`,
  );
  console.log(`targets ${targetsMet ? "met" : "MISSED"}`);
  if (JSON_OUT) {
    console.log(
      JSON.stringify({
        iterations: measured,
        direct_p50_us: round(direct.p50, 1),
        direct_p99_us: round(direct.p99, 1),
        gated_p50_us: round(gated.p50, 1),
        gated_p99_us: round(gated.p99, 1),
        added_p50_us: round(addedP50, 1),
        added_p99_us: round(addedP99, 1),
        calls_per_sec_direct: Math.round(cps("direct")),
        calls_per_sec_gated: Math.round(cps("gated")),
        throughput_ratio: round(ratio, 2),
        throughput_in_flight: PIPELINE,
        peer_proxy: `mcp-proxy@${MCP_PROXY_VERSION}`,
        peer_proxy_p50_us: round(st("peer").p50, 1),
        peer_proxy_p99_us: round(st("peer").p99, 1),
        calls_per_sec_peer: Math.round(cps("peer")),
        pipe_hop_p50_us: round(st("pipe").p50, 1),
        pipe_hop_p99_us: round(st("pipe").p99, 1),
        calls_per_sec_pipe_hop: Math.round(cps("pipe")),
        pipe_hop_throughput_ratio: round(pipeRatio, 2),
        record_hop_p50_us: round(st("record").p50, 1),
        record_hop_p99_us: round(st("record").p99, 1),
        calls_per_sec_record_hop: Math.round(cps("record")),
        record_hop_throughput_ratio: round(recordRatio, 2),
        decide_hop_p50_us: round(st("decide").p50, 1),
        decide_hop_p99_us: round(st("decide").p99, 1),
        calls_per_sec_decide_hop: Math.round(cps("decide")),
        decide_hop_vs_record_hop_throughput: decideVsRecordThroughput,
        decide_hop_minus_record_hop_p50_us: decideMinusRecordP50,
        gated_vs_record_hop_throughput: vsRecordThroughput,
        gated_minus_record_hop_p50_us: minusRecordP50,
        gate_decision_p50_us: round(percentile(decideUs, 0.5), 1),
        gate_cpu_us_per_call_seq: round(cpuSeq("gated"), 1),
        gate_cpu_us_per_call_pipelined: gateCpu,
        pipe_cpu_us_per_call_seq: round(cpuSeq("pipe"), 1),
        pipe_cpu_us_per_call_pipelined: round(cpuPipelined("pipe"), 1),
        record_hop_cpu_us_per_call_seq: round(cpuSeq("record"), 1),
        record_hop_cpu_us_per_call_pipelined: recordCpu,
        decide_hop_cpu_us_per_call_seq: round(cpuSeq("decide"), 1),
        decide_hop_cpu_us_per_call_pipelined: decideCpu,
        decide_hop_vs_record_hop_cpu_pipelined: decideCpuRatio,
        embedded_p50_us: round(embedded.p50, 1),
        embedded_p99_us: round(embedded.p99, 1),
        embedded_added_p50_us: round(embedded.p50 - direct.p50, 1),
        embedded_added_p99_us: round(embedded.p99 - direct.p99, 1),
        calls_per_sec_embedded: Math.round(cps("embedded")),
        embedded_throughput_ratio: round(embeddedRatio, 2),
        embedded_gate_cpu_us_per_call_added: embeddedAdded,
        embedded_gate_cpu_us_per_call: round(inProcess.gatedUs, 1),
        embedded_plain_cpu_us_per_call: round(inProcess.plainUs, 1),
        embedded_gate_calls: inProcess.calls,
        targets,
        targets_met: targetsMet,
      }),
    );
  }
}

try {
  await main();
} catch (err) {
  // One line, as the contract has it; the benchmark's children are closed by main's finally.
  const message = err instanceof Error ? err.message : String(err);
  console.error(`bench:gate: measurement failed: ${message}`.replace(/\n/g, "\\n"));
  process.exit(2);
}
