/**
 * The gate's per-call work, counted rather than timed: `npm run bench:gate-counts -- [--json] [--cache]`.
 *
 * bench:gate times the gate against the record hop and the decide hop on a shared two-core machine,
 * where a few microseconds of change are lost in the spread between runs. This counts instead: each
 * of the three hops of bench:gate (bench/fixtures/record-hop.mjs, the same with `--decide`, and
 * `assay mcp wrap` with the same packs and a decision log) runs under valgrind's callgrind in front
 * of @modelcontextprotocol/server-everything, which runs natively. After 10,000 warm-up `echo` calls
 * (so that V8 has compiled the hot path), the counters are zeroed and 4,000 more calls are counted,
 * sent 16 at a time in one write each, as bench:gate's pipelined phase keeps 16 in flight. Figures
 * are per call and for the hop's main thread (V8's compiler and garbage collector threads work at
 * their own pace under valgrind, so their share is not comparable between hops).
 *
 * - instructions: what the main thread executed. The same build gives the same count to within ~1%
 *   from run to run, whatever else the machine is doing.
 * - with `--cache` (valgrind's cache and branch simulation, about four times slower): first-level
 *   instruction and data cache misses and mispredicted branches, as simulated for this machine's
 *   first-level caches.
 *
 * No targets: issue 16's are bench:gate's, in time, and on this project's VM neither count has
 * predicted a call's time (docs/gate-performance.md, "Counted instead of timed"). The ratios to the
 * record hop are printed so that the work a change adds or removes can be judged on figures that do
 * not move with the machine's load. Needs
 * valgrind (Debian's `valgrind`); without it, or when a hop fails, one line on stderr and exit 2.
 * With `--json` the last stdout line is one JSON object.
 */

import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EVERYTHING_SERVER, GATE_PACKS, ROOT } from "./gate-setup.js";
import { round, table } from "./stats.js";

const WARMUP = 10_000;
const COUNTED = 4_000;
const IN_FLIGHT = 16;

function parseArgs(argv: readonly string[]): { json: boolean; cache: boolean } {
  const out = { json: false, cache: false };
  for (const a of argv) {
    if (a === "--json") out.json = true;
    else if (a === "--cache") out.cache = true;
    else {
      console.error(`bench:gate-counts: unknown argument \`${a}\``);
      console.error("usage: npm run bench:gate-counts -- [--json] [--cache]");
      process.exit(2);
    }
  }
  return out;
}

const { json: JSON_OUT, cache: CACHE } = parseArgs(process.argv.slice(2));

type Hop = "record" | "decide" | "gated";
const LABELS: Record<Hop, string> = { record: "record hop", decide: "decide hop", gated: "gate" };

/** Per call, for the main thread; the cache figures only with `--cache`. */
interface Counts {
  instructions: number;
  i1_misses?: number;
  d1_misses?: number;
  branch_mispredicts?: number;
}

function hopArgv(hop: Hop, tmp: string): string[] {
  const fixture = join(ROOT, "bench/fixtures/record-hop.mjs");
  const log = join(tmp, `${hop}.ndjson`);
  if (hop === "record") return [fixture, log, ...EVERYTHING_SERVER];
  if (hop === "decide")
    return [fixture, ...GATE_PACKS.flatMap((p) => ["--decide", p]), log, ...EVERYTHING_SERVER];
  const policies = GATE_PACKS.flatMap((p) => ["--policy", p]);
  return [
    join(ROOT, "bin/assay"),
    "mcp",
    "wrap",
    ...policies,
    "--decision-log",
    log,
    "--",
    ...EVERYTHING_SERVER,
  ];
}

/** A newline-delimited JSON-RPC client of one child's stdio, calls checked as bench:gate checks them. */
class Client {
  private buf = "";
  private nextId = 1;
  private readonly waiting = new Map<number, (m: Record<string, unknown>) => void>();
  private stderr = "";

  constructor(private readonly child: ChildProcess) {
    child.stdout?.setEncoding("utf8");
    child.stdout?.on("data", (chunk: string) => this.read(chunk));
    child.stderr?.on("data", (chunk: Buffer) => {
      this.stderr = (this.stderr + chunk.toString("utf8")).slice(-2000);
    });
    child.on("exit", (code) => {
      for (const f of this.waiting.values())
        f({ error: { message: `exited (${code}): ${this.stderr.trim()}` } });
      this.waiting.clear();
    });
  }

  private read(chunk: string): void {
    this.buf += chunk;
    for (let nl = this.buf.indexOf("\n"); nl >= 0; nl = this.buf.indexOf("\n")) {
      const line = this.buf.slice(0, nl);
      this.buf = this.buf.slice(nl + 1);
      if (line.trim() === "") continue;
      const m = JSON.parse(line) as Record<string, unknown>;
      const f = typeof m.id === "number" ? this.waiting.get(m.id) : undefined;
      if (f === undefined) continue;
      this.waiting.delete(m.id as number);
      f(m);
    }
  }

  /** Send `lines` (requests) in one write; resolve with their answers. */
  private send(lines: string[], ids: number[]): Promise<Record<string, unknown>[]> {
    const answers = ids.map((id) => new Promise<Record<string, unknown>>((r) => this.waiting.set(id, r)));
    this.child.stdin?.write(lines.join(""));
    return Promise.all(answers);
  }

  async request(method: string, params: object): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const [m] = await this.send([`${JSON.stringify({ jsonrpc: "2.0", id, method, params })}\n`], [id]);
    if (m?.error !== undefined) throw new Error(`${method}: ${JSON.stringify(m.error)}`);
    return m as Record<string, unknown>;
  }

  notify(method: string): void {
    this.child.stdin?.write(`${JSON.stringify({ jsonrpc: "2.0", method })}\n`);
  }

  /** `n` echo calls, IN_FLIGHT per write; each must come back as its own echo. */
  async echoes(n: number): Promise<void> {
    for (let done = 0; done < n; done += IN_FLIGHT) {
      const ids: number[] = [];
      const lines: string[] = [];
      for (let k = 0; k < IN_FLIGHT; k++) {
        const id = this.nextId++;
        ids.push(id);
        lines.push(
          `{"jsonrpc":"2.0","id":${id},"method":"tools/call","params":{"name":"echo","arguments":{"message":"bench ${id}"}}}\n`,
        );
      }
      const answers = await this.send(lines, ids);
      answers.forEach((m, k) => {
        const text = (m.result as { content?: { text?: string }[] } | undefined)?.content?.[0]?.text;
        if (text !== `Echo: bench ${ids[k]}`) throw new Error(`call ${ids[k]} answered ${JSON.stringify(m)}`);
      });
    }
  }
}

/** The totals of the main thread's dump (`<out>.1-01`: the first dump, thread 1), per event. */
function mainThreadTotals(dir: string): Map<string, number> {
  const dump = readdirSync(dir).find((f) => /^callgrind\.out\.\d+\.1-01$/.test(f));
  if (dump === undefined) throw new Error(`callgrind wrote no dump of the main thread in ${dir}`);
  const text = readFileSync(join(dir, dump), "utf8");
  const events = /^events: (.*)$/m.exec(text)?.[1]?.split(" ");
  const totals = (/^totals: (.*)$/m.exec(text) ?? /^summary: (.*)$/m.exec(text))?.[1]?.split(" ");
  if (events === undefined || totals === undefined) throw new Error(`unreadable callgrind dump ${dump}`);
  return new Map(events.map((e, i) => [e, Number(totals[i] ?? 0)]));
}

async function count(hop: Hop, tmp: string): Promise<Counts> {
  const dir = join(tmp, hop);
  mkdirSync(dir);
  const vg = [
    "--tool=callgrind",
    "--separate-threads=yes",
    `--callgrind-out-file=${join(dir, "callgrind.out.%p")}`,
    ...(CACHE ? ["--cache-sim=yes", "--branch-sim=yes"] : []),
  ];
  const child = spawn("valgrind", [...vg, process.execPath, ...hopArgv(hop, tmp)], {
    stdio: ["pipe", "pipe", "pipe"],
  });
  const spawned = new Promise<void>((resolve, reject) => {
    child.once("spawn", resolve);
    child.once("error", reject);
  });
  await spawned;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const client = new Client(child);
  try {
    await client.request("initialize", {
      protocolVersion: "2025-06-18",
      capabilities: {},
      clientInfo: { name: "bench-gate-counts", version: "1" },
    });
    client.notify("notifications/initialized");
    await client.request("tools/list", {});
    await client.echoes(WARMUP);
    execFileSync("callgrind_control", ["-z", String(child.pid)], { stdio: "ignore" });
    await client.echoes(COUNTED);
    execFileSync("callgrind_control", ["-d", String(child.pid)], { stdio: "ignore" });
  } finally {
    child.stdin?.end();
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    await exited;
    clearTimeout(timer);
  }
  const t = mainThreadTotals(dir);
  const per = (e: string) => round((t.get(e) ?? 0) / COUNTED, 0);
  const counts: Counts = { instructions: per("Ir") };
  if (CACHE) {
    counts.i1_misses = per("I1mr");
    counts.d1_misses = round(((t.get("D1mr") ?? 0) + (t.get("D1mw") ?? 0)) / COUNTED, 0);
    counts.branch_mispredicts = round(((t.get("Bcm") ?? 0) + (t.get("Bim") ?? 0)) / COUNTED, 0);
  }
  return counts;
}

async function main(): Promise<void> {
  try {
    execFileSync("valgrind", ["--version"], { stdio: "ignore" });
  } catch {
    throw new Error("valgrind is not installed (Debian: apt-get install valgrind)");
  }
  const tmp = mkdtempSync(join(tmpdir(), "assay-bench-gate-counts-"));
  try {
    const results = {} as Record<Hop, Counts>;
    for (const hop of ["record", "decide", "gated"] as const) {
      if (!JSON_OUT)
        console.error(`counting the ${LABELS[hop]} (${WARMUP} warm-up calls, ${COUNTED} counted)...`);
      results[hop] = await count(hop, tmp);
    }
    const base = results.record;
    const ratio = (c: Counts, k: keyof Counts) => {
      const a = c[k];
      const b = base[k];
      return a === undefined || b === undefined || b === 0 ? undefined : round(a / b, 2);
    };
    const keys = (Object.keys(base) as (keyof Counts)[]).filter((k) => base[k] !== undefined);
    if (!JSON_OUT) {
      const rows = [["per call, main thread", ...keys.map((k) => k.replaceAll("_", " "))]];
      for (const hop of ["record", "decide", "gated"] as const) {
        const c = results[hop];
        rows.push([
          LABELS[hop],
          ...keys.map((k) => `${c[k]}${hop === "record" ? "" : ` (${ratio(c, k)}×)`}`),
        ]);
      }
      console.log(table(rows));
    }
    const summary: Record<string, unknown> = {
      bench: "gate-counts",
      calls_counted: COUNTED,
      in_flight: IN_FLIGHT,
      record_hop: results.record,
      decide_hop: results.decide,
      gated: results.gated,
    };
    for (const k of keys) {
      summary[`gated_vs_record_hop_${k}`] = ratio(results.gated, k);
      summary[`decide_hop_vs_record_hop_${k}`] = ratio(results.decide, k);
    }
    console.log(JSON.stringify(summary));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (err) {
  const message = err instanceof Error ? err.message : String(err);
  console.error(`bench:gate-counts: measurement failed: ${message}`.replace(/\n/g, "\\n"));
  process.exit(2);
}
