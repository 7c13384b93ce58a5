/**
 * Runner benchmark: `npm run bench:runner -- [--json] [--events N] [--rounds N]`.
 *
 * Two things, against the shipped build in dist/ (the npm script builds it first):
 *
 * 1. Normalizer throughput. A synthetic raw kernel layer of 1,000,000 events (`--events`) is
 *    written once, in the raw format the kernel backends write while capturing
 *    (src/runner/kernel/event-file.ts), then read back and normalized into layers/kernel.ndjson
 *    (src/runner/kernel-normalize.ts), the way a capture does it, in a child process of its own
 *    so that its peak resident memory is the normalizer's alone. The mix is a real agent's: opens
 *    of 20,000 distinct paths under a work tree, each opened again with the same flags many times
 *    (the normalizer keeps the first), a tenth of them loader telemetry (/usr/lib, /proc, ...),
 *    1% connects to 100 endpoints and 0.1% execs. `events_per_sec` = events / seconds from the
 *    first read to the last write; `peak_rss_mb` = the child's maxRSS. `read_only_events_per_sec`
 *    is the same file only read and parsed, the floor the normalizer stands on. Targets:
 *    events_per_sec ≥ 500,000 and peak_rss_mb ≤ 256.
 *
 * 2. Capture overhead. A fixed workload (a shell loop doing 10,000 opens of one file: `: <
 *    /etc/hostname`) is timed from spawn to exit uncaptured, under bpftrace (in a fresh cgroup the
 *    running bpftrace filters on) and under strace -f (in the cgroup too), in `--rounds` (≥ 7,
 *    default 7) alternating rounds; `<backend>_overhead_ratio` = median captured / median
 *    uncaptured. Each captured round also checks that the backend saw all 10,000 opens (raw, before
 *    deduplication), or the run fails. A backend that cannot run here is reported as unavailable
 *    with its reason, and its ratio is null. No target: the two are reported side by side.
 *
 * With `--json` the last stdout line is one JSON object. Exit 2 when a measurement fails.
 */

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { median, round, roundTowardMiss, table } from "./stats.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIST = join(ROOT, "dist");
const TARGETS = { events_per_sec: 500_000, peak_rss_mb: 256 };
const OPENS = 10_000;

function usage(message: string): never {
  console.error(`bench:runner: ${message}`);
  console.error("usage: npm run bench:runner -- [--json] [--events N] [--rounds N]   (rounds ≥ 7)");
  process.exit(2);
}

function parseArgs(argv: readonly string[]): { json: boolean; events: number; rounds: number } {
  let json = false;
  let events = 1_000_000;
  let rounds = 7;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    const value = () => {
      const v = argv[++i];
      if (v === undefined || !/^\d+$/.test(v)) usage(`${a} takes a positive integer`);
      return Number(v);
    };
    if (a === "--json") json = true;
    else if (a === "--events") events = value();
    else if (a === "--rounds") rounds = value();
    else usage(`unknown argument \`${a}\``);
  }
  if (rounds < 7) usage("--rounds must be at least 7");
  if (events < 1) usage("--events must be positive");
  return { json, events, rounds };
}

// ---------------------------------------------------------------------------------------------
// 1. Normalizer, in a child process.

const NORMALIZE_CHILD = `
import { join } from "node:path";
import { createWriteStream } from "node:fs";
import { once } from "node:events";
const [dist, dir, n, mode] = process.argv.slice(1);
const { EventFileWriter, readEventBatches } = await import(join(dist, "runner/kernel/event-file.js"));
const { normalizeKernel } = await import(join(dist, "runner/kernel-normalize.js"));
const raw = join(dir, "raw.ndjson");
const total = Number(n);
if (mode === "write") {
  const w = new EventFileWriter(raw);
  const telemetry = ["/usr/lib/x86_64-linux-gnu/libc.so.6", "/proc/self/maps", "/dev/urandom", "/etc/ld.so.cache"];
  let batch = [];
  for (let i = 0; i < total; i++) {
    const r = i % 1000;
    let e;
    if (r === 0) e = { kind: "exec", pid: 4000 + (i % 7), path: "/usr/bin/tool" + (i % 13) };
    else if (r < 11) e = { kind: "connect", pid: 4000 + (i % 7), sockaddr: { family: 2, address: "10.0." + (i % 10) + "." + (i % 10), port: 8000 + (i % 10) } };
    else if (r < 111) e = { kind: "openat", pid: 4000, path: telemetry[i % 4], flags: 524288, mode: 0, resolve: 0, ret: 3 };
    else e = { kind: "openat", pid: 4000 + (i % 7), path: "/work/agent/src/module-" + (i % 20000) + ".js", flags: i % 3 === 0 ? 524288 : 577, mode: 420, resolve: 0, ret: i % 50 === 0 ? -2 : 5 };
    batch.push(e);
    if (batch.length === 4096) { const p = w.write(batch); batch = []; if (p) await p; }
  }
  const p = w.write(batch); if (p) await p;
  await w.close();
} else {
  const t0 = process.hrtime.bigint();
  let count = 0;
  let lines = 0;
  if (mode === "read") {
    for await (const b of readEventBatches(raw)) count += b.length;
  } else {
    const out = createWriteStream(join(dir, "kernel.ndjson"));
    const result = await normalizeKernel((async function* () { for await (const b of readEventBatches(raw)) { count += b.length; yield b; } })(), "run_bench", async (chunk) => { if (!out.write(chunk)) await once(out, "drain"); });
    out.end(); await once(out, "close");
    lines = result.retained;
  }
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  process.stdout.write(JSON.stringify({ count, lines, seconds, maxrss_kb: process.resourceUsage().maxRSS }) + "\\n");
}
`;

function runChild(args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", NORMALIZE_CHILD, ...args], {
      stdio: ["ignore", "pipe", "inherit"],
    });
    let out = "";
    child.stdout.setEncoding("utf8").on("data", (c: string) => {
      out += c;
    });
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`normalizer child exited ${code}`)),
    );
  });
}

async function benchNormalizer(events: number) {
  const dir = mkdtempSync(join(tmpdir(), "assay-bench-runner-"));
  try {
    await runChild([DIST, dir, String(events), "write"]);
    const readRuns: { count: number; seconds: number }[] = [];
    const normRuns: { count: number; lines: number; seconds: number; maxrss_kb: number }[] = [];
    for (let i = 0; i < 3; i++) {
      readRuns.push(JSON.parse(await runChild([DIST, dir, String(events), "read"])));
      normRuns.push(JSON.parse(await runChild([DIST, dir, String(events), "normalize"])));
    }
    for (const r of [...readRuns, ...normRuns])
      if (r.count !== events) throw new Error(`read ${r.count} events of ${events}`);
    const seconds = median(normRuns.map((r) => r.seconds));
    return {
      events,
      retained_lines: normRuns[0]?.lines ?? 0,
      // Judged figures are rounded toward missing their targets (bench/stats.ts roundTowardMiss).
      events_per_sec: roundTowardMiss(events / seconds, 0, "min"),
      read_only_events_per_sec: Math.round(events / median(readRuns.map((r) => r.seconds))),
      peak_rss_mb: roundTowardMiss(Math.max(...normRuns.map((r) => r.maxrss_kb)) / 1024, 1, "max"),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// 2. Capture overhead.

const WORKLOAD = ["/bin/sh", "-c", `i=0; while [ $i -lt ${OPENS} ]; do : < /etc/hostname; i=$((i+1)); done`];

function timeRun(argv: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ["ignore", "ignore", "inherit"] });
    child.on("error", reject);
    child.on("exit", (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      code === 0 ? resolve(ms) : reject(new Error(`\`${argv.join(" ")}\` exited ${code}`));
    });
  });
}

type Backend = "bpftrace" | "strace";
type Ev = { kind: string; path?: string | null };

async function captured(backend: Backend): Promise<number> {
  const { createCgroup } = await import(join(DIST, "runner/cgroup.js"));
  const { startKernelCapture } = await import(join(DIST, "runner/kernel/backend.js"));
  const scratch = mkdtempSync(join(tmpdir(), "assay-bench-capture-"));
  const cgroup = await createCgroup(`bench-${backend}`);
  try {
    const capture = await startKernelCapture(backend, { cgroup, scratchDir: scratch });
    const ms = await timeRun(cgroup.wrap(capture.command(WORKLOAD)));
    const { events, facts } = await capture.finish();
    let opens = 0;
    for await (const item of events as AsyncIterable<Ev | Ev[]>)
      for (const e of Array.isArray(item) ? item : [item])
        if (e.kind === "openat" && e.path === "/etc/hostname") opens++;
    if (opens !== OPENS || facts.drops !== 0)
      throw new Error(`${backend} saw ${opens} of ${OPENS} opens (${facts.drops} lost)`);
    return ms;
  } finally {
    await cgroup.remove();
    rmSync(scratch, { recursive: true, force: true });
  }
}

async function benchOverhead(rounds: number) {
  const { probeKernelBackends } = await import(join(DIST, "runner/kernel/backend.js"));
  const probes = (await probeKernelBackends()) as { backend: Backend; available: boolean; reason?: string }[];
  const usable = probes.filter((p) => p.available).map((p) => p.backend);
  const samples: Record<"uncaptured" | Backend, number[]> = { uncaptured: [], bpftrace: [], strace: [] };
  const setups: ("uncaptured" | Backend)[] = ["uncaptured", ...usable];
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < setups.length; k++) {
      const s = setups[(r + k) % setups.length] as "uncaptured" | Backend;
      samples[s].push(s === "uncaptured" ? await timeRun(WORKLOAD) : await captured(s));
    }
  }
  const base = median(samples.uncaptured);
  const ratio = (b: Backend) => (usable.includes(b) ? round(median(samples[b]) / base, 2) : null);
  return {
    workload_opens: OPENS,
    uncaptured_ms: round(base, 1),
    bpftrace_ms: usable.includes("bpftrace") ? round(median(samples.bpftrace), 1) : null,
    strace_ms: usable.includes("strace") ? round(median(samples.strace), 1) : null,
    bpftrace_overhead_ratio: ratio("bpftrace"),
    strace_overhead_ratio: ratio("strace"),
    unavailable: Object.fromEntries(
      probes.filter((p) => !p.available).map((p) => [p.backend, p.reason ?? ""]),
    ),
  };
}

// ---------------------------------------------------------------------------------------------

const opts = parseArgs(process.argv.slice(2));
const started = Date.now();
try {
  const normalizer = await benchNormalizer(opts.events);
  const overhead = await benchOverhead(opts.rounds);
  const targets = {
    events_per_sec: {
      value: normalizer.events_per_sec,
      min: TARGETS.events_per_sec,
      met: normalizer.events_per_sec >= TARGETS.events_per_sec,
    },
    peak_rss_mb: {
      value: normalizer.peak_rss_mb,
      max: TARGETS.peak_rss_mb,
      met: normalizer.peak_rss_mb <= TARGETS.peak_rss_mb,
    },
  };
  const result = {
    node_version: process.version,
    cpus: availableParallelism(),
    ...normalizer,
    ...overhead,
    rounds: opts.rounds,
    targets,
    targets_met: Object.values(targets).every((t) => t.met),
  };
  console.log(
    table([
      ["figure", "value", "target"],
      ["normalizer events/s", String(normalizer.events_per_sec), `≥ ${TARGETS.events_per_sec}`],
      ["read-only floor events/s", String(normalizer.read_only_events_per_sec), ""],
      ["normalizer peak RSS (MiB)", String(normalizer.peak_rss_mb), `≤ ${TARGETS.peak_rss_mb}`],
      ["uncaptured workload (ms)", String(overhead.uncaptured_ms), ""],
      ["bpftrace overhead ×", String(overhead.bpftrace_overhead_ratio), ""],
      ["strace overhead ×", String(overhead.strace_overhead_ratio), ""],
    ]),
  );
  console.log(
    `${result.targets_met ? "targets met" : "targets not all met"}; total benchmark time ${round((Date.now() - started) / 1000, 1)} s`,
  );
  if (opts.json) console.log(JSON.stringify(result));
} catch (err) {
  console.error(`bench:runner: ${(err as Error).message}`);
  process.exit(2);
}
