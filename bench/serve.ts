/**
 * Decision-service benchmark: `npm run bench:serve -- [--json] [--cpu-prof DIR]`.
 *
 * One file on purpose: a benchmark is one runnable script, its setups, checks and report together,
 * so that what it measures can be read in one place.
 *
 * What runs, all on 127.0.0.1, against the shipped build (`./bin/assay`, which imports the tsc build
 * in dist/; the npm script builds it first):
 *
 * - An OAuth2 provider inside this process (the tests' test/serve/fixtures-idp.ts, built on
 *   oauth2-mock-server), one RS256 key. The token is a real client-credentials grant (POST /token,
 *   `scope=verify:run`, `aud` the service's audience, 1 h `exp`). The
 *   provider only serves the discovery document and the JWKS once, at the service's start, so it
 *   costs nothing during the load.
 * - A CA and a server certificate for 127.0.0.1 (EC P-256, made by openssl through
 *   test/serve/fixtures-pki.ts).
 * - The service as its own process, `node bin/assay serve --config <tmp>/serve.yaml --listen
 *   127.0.0.1:<port>`: profile dev (the provider is plain http), packs/mcp-baseline.yaml, `auth:
 *   {issuer, audience: assay}` (no dev token: every request is a JWT verified against the JWKS),
 *   TLS with the certificate above, `log_level: warn` (at `info` each request writes a log line,
 *   and the benchmark would measure the logger). The port is picked free beforehand because the
 *   "listening" line is an info line; the bench polls GET /healthz, then waits for GET /readyz 200
 *   (JWKS fetched).
 * - The bare peer as its own process: `node -e` running `https.createServer` with the same
 *   certificate and key, which reads the request body and answers 200 with the very bytes the
 *   service answered to the benchmark's request (same size, same content type).
 *
 * Before any load the bench checks: the request without a token gets 401 (auth is really on), with
 * the token 200 and `"verdict":"allow"`, twice byte-identical (so every later answer can be compared
 * whole); the bare peer answers the same bytes; both negotiate the same TLS version and cipher.
 *
 * The load comes from this process (a second process relative to both servers), the same request
 * to both: `POST /v1/verify`, `Authorization: Bearer <jwt>`, `content-type: application/json`, body
 * `{"policy":"mcp-baseline","call":{"tool":"read_file","arguments":{"path":"/workspace/README.md"}}}`
 * (a call the baseline allows).
 *
 * - Throughput (autocannon 8, programmatic): CONNECTIONS keep-alive connections, WARMUP_S s of
 *   warm-up (not counted) then DURATION_S s measured, per server, in ROUNDS rounds whose order
 *   alternates (verify first, then bare first), so drift on this shared machine lands on both.
 *   `verify_rps` and `bare_rps` are the medians of the rounds' mean requests/s; `ratio` =
 *   verify_rps / bare_rps (target ≥ 0.5). Every answer of every run, warm-ups included, must be 200
 *   and byte-equal to the checked answer (autocannon's `expectBody`), with no connection error or
 *   timeout; otherwise the run is invalid (exit 2).
 * - Latency at a fixed rate: LATENCY_RATE requests/s for LATENCY_S s (after LATENCY_WARMUP_S s at
 *   that rate, not counted) to the service, then the same to the bare peer (`bare_p95_ms`,
 *   `bare_p99_ms`: the floor this machine and this client give at that rate, to tell a slow
 *   service from a noisy machine). Not autocannon's `overallRate`: autocannon resets each connection's
 *   quota once a second and sends it back to back, so "1,000/s" arrives as a burst at full speed
 *   followed by silence (the percentiles are those of a saturated service), and with a rate it
 *   records every latency with a coordinated-omission correction whose expected interval is
 *   ceil(1 / per-connection rate) = 1 ms, which adds a synthetic sample per millisecond of each
 *   answer. Instead an open-loop schedule here sends request i at t0 + i / rate (a 1 ms timer that
 *   catches up on every tick), over node:https with a keep-alive agent of LATENCY_SOCKETS sockets
 *   (a request waits for a free socket when all are busy, and that wait counts). Each latency runs
 *   from the request's send to its answer's last byte (performance.now(), sub-millisecond);
 *   `schedule_lag_p99_ms` shows how late the sends were against the schedule, `achieved_rps`
 *   that the rate was held. `p95_ms` (target ≤ 5) and `p99_ms` are nearest-rank percentiles.
 * - RSS: VmRSS of the service process (/proc/<pid>/status; the pid is checked to be this Node
 *   running bin/assay) after readiness and a pre-check request (`rss_mb_idle`), and sampled every
 *   SAMPLE_MS while the service is under load (verify throughput runs and the latency phase):
 *   `rss_mb_under_load` is the largest sample. MB means MiB.
 * - CPU (diagnostics, not targets), from utime + stime in /proc/<pid>/stat (all threads; this
 *   process: process.cpuUsage()) over each measured run: `service_cpu_us_per_req` and
 *   `bare_cpu_us_per_req`, the server's CPU time per answered request (steadier than req/s on a
 *   shared machine, and what a change in src/serve moves); the servers' and the client's share of
 *   one CPU, which say who the bottleneck was; `other_cpu_pct`, the machine's busy time
 *   (/proc/stat, steal included) minus this process and both servers in the worst measured phase:
 *   other sessions and other VMs. Above NOISY_OTHERS_PCT the summary warns that the run is noisy.
 *
 * `--cpu-prof DIR` runs the service under `node --cpu-prof --cpu-prof-dir DIR` (the profile is
 * written when it exits on SIGTERM at the end), to see where its time goes.
 *
 * Exit 0 when both targets are met, 1 when one is not (the human summary names it), 2 when a
 * measurement fails (a wrong answer, a child that does not start, a timeout). Every child runs in
 * its own process group and is killed on exit, error and signal; WATCHDOG_MS bounds the whole run.
 * With `--json` the last stdout line is one JSON object.
 */

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, readlinkSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import type { IncomingMessage } from "node:http";
import { Agent, request as httpsRequest } from "node:https";
import { createRequire } from "node:module";
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import type { TLSSocket } from "node:tls";
import { fileURLToPath } from "node:url";
import { freePort } from "../test/free-port.js";
import { startIdp, type TestIdp } from "../test/serve/fixtures-idp.js";
import { createCa, issueCert, LOCALHOST_SANS } from "../test/serve/fixtures-pki.js";
import { median, newest, percentile, round, table } from "./stats.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const ASSAY = join(ROOT, "bin/assay");
const NODE = process.execPath;
const PACK = join(ROOT, "packs/mcp-baseline.yaml");

const CONNECTIONS = 10;
const WARMUP_S = 2;
const DURATION_S = 8;
const ROUNDS = 2;
const LATENCY_RATE = 1000;
const LATENCY_WARMUP_S = 1;
const LATENCY_S = 10;
const LATENCY_SOCKETS = CONNECTIONS;
const SAMPLE_MS = 100;
// Above this share of one CPU used by other processes during a measured phase, the run is flagged.
const NOISY_OTHERS_PCT = 20;
const START_TIMEOUT_MS = 20_000;
const REQUEST_TIMEOUT_MS = 5_000;
const EXIT_GRACE_MS = 5_000;
// Everything above adds up to about 70 s; a hang anywhere must still end the run (exit 2).
const WATCHDOG_MS = 120_000;

const TARGETS = { ratio: 0.5, p95_ms: 5 };
const AUDIENCE = "assay";
const SCOPE = "verify:run";
const VERIFY_BODY = JSON.stringify({
  policy: "mcp-baseline",
  call: { tool: "read_file", arguments: { path: "/workspace/README.md" } },
});

/** A failed measurement: the figures would mean nothing (exit 2). */
class MeasurementError extends Error {}

function usage(message: string): never {
  console.error(`bench:serve: ${message}`);
  console.error("usage: npm run bench:serve -- [--json] [--cpu-prof DIR]");
  process.exit(2);
}

function parseArgs(argv: readonly string[]): { json: boolean; cpuProf?: string } {
  let json = false;
  let cpuProf: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === "--json") json = true;
    else if (a === "--cpu-prof") {
      cpuProf = argv[++i];
      if (cpuProf === undefined || cpuProf.startsWith("--")) usage("--cpu-prof takes a directory");
    } else usage(`unknown argument \`${a}\``);
  }
  return cpuProf === undefined ? { json } : { json, cpuProf };
}

// ---------------------------------------------------------------------------------------------
// autocannon ships no types; this is the part of its programmatic API the bench uses.

interface CannonOptions {
  url: string;
  method: "POST";
  headers: Record<string, string>;
  body: string;
  connections: number;
  duration: number;
  timeout: number;
  expectBody: string;
  /** autocannon always sets rejectUnauthorized: false; the CA is checked by the pre-checks. */
  tlsOptions: { ca: string };
}

interface CannonResult {
  requests: { total: number };
  /** Seconds, as autocannon measured them. */
  duration: number;
  errors: number;
  timeouts: number;
  mismatches: number;
  non2xx: number;
  "2xx": number;
  statusCodeStats: Record<string, { count: number }>;
}

type Autocannon = (opts: CannonOptions, cb: (err: Error | null, result: CannonResult) => void) => unknown;

const autocannon = createRequire(import.meta.url)("autocannon") as Autocannon;

function cannon(opts: CannonOptions): Promise<CannonResult> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

// ---------------------------------------------------------------------------------------------
// Children: every one is tracked, detached into its own process group, and killed with its group
// when this process exits, whatever the reason.

const live = new Set<ChildProcess>();
/** The run's temp dir (certificates, config): removed on every way out, signals included. */
let tmp: string | undefined;

function cleanUp(): void {
  for (const child of live) killGroup(child);
  if (tmp !== undefined) rmSync(tmp, { recursive: true, force: true });
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, "SIGKILL");
  } catch {
    // already gone
  }
}

process.on("exit", cleanUp);
for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => process.exit(2));

/** A child with the tail of its output kept for error messages. */
interface Launched {
  readonly child: ChildProcess;
  readonly pid: number;
  output(): string;
  /** Resolves with the exit code (null: killed by a signal). */
  readonly exited: Promise<number | null>;
}

function launch(name: string, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Launched {
  const [command, ...args] = argv;
  const child = spawn(command as string, args, {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  live.add(child);
  let tail = "";
  const keep = (c: string) => {
    tail = (tail + c).slice(-4000);
  };
  child.stdout?.setEncoding("utf8").on("data", keep);
  child.stderr?.setEncoding("utf8").on("data", keep);
  const exited = new Promise<number | null>((resolve) => {
    child.on("exit", (code) => {
      live.delete(child);
      resolve(code);
    });
  });
  if (child.pid === undefined) throw new MeasurementError(`${name}: could not be started`);
  return { child, pid: child.pid, output: () => tail.trim(), exited };
}

/** SIGTERM, then SIGKILL to the group after a grace period; resolves with the exit code. */
async function stop(p: Launched): Promise<number | null> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return p.child.exitCode;
  p.child.kill("SIGTERM");
  const timer = setTimeout(() => killGroup(p.child), EXIT_GRACE_MS);
  const code = await p.exited;
  clearTimeout(timer);
  killGroup(p.child);
  return code;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

// ---------------------------------------------------------------------------------------------
// /proc readings.

const NODE_REAL = realpathSync(NODE);
const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** VmRSS of `pid` in MiB. */
function vmRssMb(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  if (!m) throw new MeasurementError(`no VmRSS in /proc/${pid}/status`);
  return Number(m[1]) / 1024;
}

/** utime + stime of `pid` in milliseconds. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // The command name (field 2) may hold spaces; the fields after its closing parenthesis do not.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

/** The bench's own CPU time (all threads) in milliseconds. */
function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * Busy time of the whole machine (all CPUs) in milliseconds: user, nice, system, and steal (another
 * VM ran). Not irq and softirq: that is mostly the loopback traffic of this very benchmark, which
 * this kernel does not charge to the processes that cause it.
 */
function machineBusyMs(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] as string;
  const [user = 0, nice = 0, system = 0, , , , , steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  return ((user + nice + system + steal) * 1000) / CLK_TCK;
}

/** CPU used during one measured window, in % of one CPU: the server under load, this process, everyone else. */
interface CpuShares {
  server: number;
  serverMs: number;
  client: number;
  /** The machine's busy time minus this process and both servers: other sessions, other VMs (steal). */
  others: number;
}

/** Start a window; `end()` reads the shares. `pids`: the two servers; `serverPid` the one under load. */
function cpuWindow(serverPid: number, pids: readonly number[]): { end(): CpuShares } {
  const wall0 = performance.now();
  const ours = () => selfCpuMs() + pids.reduce((sum, pid) => sum + cpuMs(pid), 0);
  const server0 = cpuMs(serverPid);
  const client0 = selfCpuMs();
  const ours0 = ours();
  const busy0 = machineBusyMs();
  return {
    end() {
      const wall = performance.now() - wall0;
      const serverMs = cpuMs(serverPid) - server0;
      const pct = (ms: number) => (ms / wall) * 100;
      return {
        server: pct(serverMs),
        serverMs,
        client: pct(selfCpuMs() - client0),
        others: Math.max(0, pct(machineBusyMs() - busy0 - (ours() - ours0))),
      };
    },
  };
}

/** INVARIANT: the pid whose RSS is reported is the service's node process, not a wrapper. */
function checkIsService(pid: number): void {
  const exe = readlinkSync(`/proc/${pid}/exe`);
  const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
  if (exe !== NODE_REAL || !cmdline.includes(ASSAY))
    throw new MeasurementError(
      `pid ${pid} is not the service's node process: exe \`${exe}\`, cmdline \`${cmdline.join(" ").trim()}\``,
    );
}

// ---------------------------------------------------------------------------------------------
// One-off HTTPS requests (set-up and checks), with the CA verified: no agent, a fresh connection.

interface Answer {
  status: number;
  text: string;
  tls: string;
}

function fetchOnce(
  url: string,
  ca: string,
  o: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      { method: o.method ?? "GET", headers: o.headers ?? {}, ca, agent: false, timeout: REQUEST_TIMEOUT_MS },
      (res: IncomingMessage) => {
        const socket = res.socket as TLSSocket;
        const tls = `${socket.getProtocol()} ${socket.getCipher().name}`;
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, text, tls }));
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${REQUEST_TIMEOUT_MS} ms`)));
    req.on("error", reject);
    req.end(o.body);
  });
}

/** Poll `url` until it answers `status`; fail when the service exits first or after the timeout. */
async function waitFor(url: string, status: number, ca: string, svc: Launched): Promise<void> {
  const end = Date.now() + START_TIMEOUT_MS;
  let last = "no answer";
  while (Date.now() < end) {
    if (svc.child.exitCode !== null)
      throw new MeasurementError(`the service exited (${svc.child.exitCode}): ${svc.output()}`);
    try {
      const a = await fetchOnce(url, ca);
      if (a.status === status) return;
      last = `${a.status} ${a.text.slice(0, 300)}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(50);
  }
  throw new MeasurementError(`${url} did not answer ${status} within ${START_TIMEOUT_MS} ms (last: ${last})`);
}

// ---------------------------------------------------------------------------------------------
// Set-up.

/** Reads the request body, then answers 200 with the bytes of BENCH_BODY, as a minimal JSON API would. */
const BARE_PEER = `
const https = require("node:https");
const fs = require("node:fs");
const body = fs.readFileSync(process.env.BENCH_BODY);
const server = https.createServer(
  { cert: fs.readFileSync(process.env.BENCH_CERT), key: fs.readFileSync(process.env.BENCH_KEY) },
  (req, res) => {
    req.resume();
    req.on("end", () => {
      res.writeHead(200, { "content-type": "application/json; charset=utf-8", "content-length": body.length });
      res.end(body);
    });
  },
);
server.keepAliveTimeout = 72000;
server.listen(0, "127.0.0.1", () => process.stdout.write(JSON.stringify({ port: server.address().port }) + "\\n"));
`;

async function startBare(env: NodeJS.ProcessEnv): Promise<{ peer: Launched; url: string }> {
  const peer = launch("bare peer", [NODE, "-e", BARE_PEER], env);
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    const timer = setTimeout(
      () => reject(new MeasurementError("bare peer: no port within the timeout")),
      START_TIMEOUT_MS,
    );
    peer.child.stdout?.on("data", (c: string) => {
      out += c;
      const m = /\{"port":(\d+)\}/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    void peer.exited.then((code) => {
      clearTimeout(timer);
      reject(new MeasurementError(`bare peer exited (${code}): ${peer.output()}`));
    });
  });
  return { peer, url: `https://127.0.0.1:${port}/v1/verify` };
}

// ---------------------------------------------------------------------------------------------
// Load.

/** VmRSS samples of the service, taken while `loaded` is set (the service is under load). */
class Sampler {
  readonly rss: number[] = [];
  loaded = false;
  readonly #timer: NodeJS.Timeout;

  constructor(readonly pid: number) {
    this.#timer = setInterval(() => {
      if (this.loaded) this.rss.push(vmRssMb(pid));
    }, SAMPLE_MS);
  }

  close(): void {
    clearInterval(this.#timer);
  }
}

interface RunFigures {
  rps: number;
  /** CPU time of the server under load (all its threads) per answered request, microseconds. */
  serverCpuUs: number;
  cpu: CpuShares;
}

/** One autocannon run; every answer must be 200 and equal `expected`, else the run is invalid. */
async function throughput(
  name: string,
  url: string,
  serverPid: number,
  pids: readonly number[],
  common: Omit<CannonOptions, "url" | "duration">,
  duration: number,
): Promise<RunFigures> {
  const window = cpuWindow(serverPid, pids);
  const r = await cannon({ ...common, url, duration });
  const cpu = window.end();
  if (r.errors !== 0 || r.timeouts !== 0 || r.non2xx !== 0 || r.mismatches !== 0 || r["2xx"] === 0)
    throw new MeasurementError(
      `${name}: invalid run: ${r["2xx"]} ok, ${r.non2xx} not 2xx (${JSON.stringify(r.statusCodeStats)}), ` +
        `${r.mismatches} with another body, ${r.errors} errors (${r.timeouts} timeouts)`,
    );
  return { rps: r.requests.total / r.duration, serverCpuUs: (cpu.serverMs * 1000) / r.requests.total, cpu };
}

interface Paced {
  latencies: Float64Array;
  lags: Float64Array;
  achievedRps: number;
}

/**
 * Open-loop load at `rate`/s for `seconds`: request i is due at t0 + i / rate and sent on the first
 * 1 ms tick at or after that; latency from send to the answer's last byte. Fails on any answer that
 * is not 200 with the expected body.
 */
function paced(
  url: string,
  agent: Agent,
  headers: Record<string, string>,
  expected: string,
  rate: number,
  seconds: number,
): Promise<Paced> {
  const total = rate * seconds;
  const latencies = new Float64Array(total);
  const lags = new Float64Array(total);
  const interval = 1000 / rate;
  return new Promise((resolve, reject) => {
    let sent = 0;
    let done = 0;
    let failure: string | undefined;
    const t0 = performance.now();
    const finish = () => {
      if (++done < total) return;
      clearTimeout(deadline);
      if (failure !== undefined) reject(new MeasurementError(`latency phase: ${failure}`));
      else resolve({ latencies, lags, achievedRps: (total * 1000) / (performance.now() - t0) });
    };
    const deadline = setTimeout(
      () => {
        clearInterval(tick);
        reject(
          new MeasurementError(
            `latency phase: ${total - done} answers missing ${REQUEST_TIMEOUT_MS} ms after the end`,
          ),
        );
      },
      seconds * 1000 + REQUEST_TIMEOUT_MS,
    );
    const fire = () => {
      const i = sent++;
      const start = performance.now();
      lags[i] = start - (t0 + i * interval);
      const req = httpsRequest(url, { method: "POST", agent, headers }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (c: string) => {
          text += c;
        });
        res.on("end", () => {
          latencies[i] = performance.now() - start;
          if (res.statusCode !== 200 || text !== expected)
            failure ??= `answer ${res.statusCode}: ${text.slice(0, 300)}`;
          finish();
        });
      });
      req.on("error", (err) => {
        failure ??= err.message;
        finish();
      });
      req.end(VERIFY_BODY);
    };
    const tick = setInterval(() => {
      const due = Math.min(total, Math.floor((performance.now() - t0) / interval) + 1);
      while (sent < due) fire();
      if (sent === total) clearInterval(tick);
    }, 1);
  });
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<number> {
  const { json, cpuProf } = parseArgs(process.argv.slice(2));
  const started = performance.now();
  if (newest(join(ROOT, "src"), ".ts") > newest(join(ROOT, "dist"), ".js"))
    console.error("warning: dist/ is older than src/; run `npm run build` to measure the current code");

  const dir = mkdtempSync(join(tmpdir(), "assay-bench-serve-"));
  tmp = dir;
  let idp: TestIdp | undefined;
  const children: Launched[] = [];
  try {
    const ca = await createCa(dir, "bench-ca");
    const cert = await issueCert(ca, dir, { name: "server", sans: LOCALHOST_SANS });
    const caPem = readFileSync(ca.certFile, "utf8");
    // The tests' provider (test/serve/fixtures-idp.ts): a real client-credentials grant, `aud`
    // set to the service's audience.
    idp = await startIdp({ audience: AUDIENCE });
    const issuer = idp.issuer;
    const token = await idp.token(SCOPE);

    const config = join(dir, "serve.yaml");
    writeFileSync(
      config,
      [
        "profile: dev",
        "listen: 127.0.0.1:0",
        "policies:",
        `  - ${JSON.stringify(PACK)}`,
        "auth:",
        `  issuer: ${JSON.stringify(issuer)}`,
        `  audience: ${AUDIENCE}`,
        "tls:",
        `  cert_file: ${JSON.stringify(cert.certFile)}`,
        `  key_file: ${JSON.stringify(cert.keyFile)}`,
        "limits:",
        "  shutdown_grace_ms: 1000",
        "log_level: warn",
        "",
      ].join("\n"),
    );
    const port = await freePort();
    const base = `https://127.0.0.1:${port}`;
    const profile = cpuProf === undefined ? [] : ["--cpu-prof", "--cpu-prof-dir", cpuProf];
    const svc = launch("service", [
      NODE,
      ...profile,
      ASSAY,
      "serve",
      "--config",
      config,
      "--listen",
      `127.0.0.1:${port}`,
    ]);
    children.push(svc);
    checkIsService(svc.pid);
    await waitFor(`${base}/healthz`, 200, caPem, svc);
    await waitFor(`${base}/readyz`, 200, caPem, svc);

    const verifyUrl = `${base}/v1/verify`;
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const post = (url: string, h: Record<string, string>) =>
      fetchOnce(url, caPem, { method: "POST", headers: h, body: VERIFY_BODY });

    // Checks before load: auth is on, the answer is the allow decision and does not vary.
    const anonymous = await post(verifyUrl, { "content-type": "application/json" });
    if (anonymous.status !== 401)
      throw new MeasurementError(`verify without a token: expected 401, got ${anonymous.status}`);
    const first = await post(verifyUrl, headers);
    if (first.status !== 200 || !first.text.includes('"verdict":"allow"'))
      throw new MeasurementError(
        `verify: expected 200 and an allow verdict, got ${first.status}: ${first.text}`,
      );
    const second = await post(verifyUrl, headers);
    if (second.text !== first.text)
      throw new MeasurementError(`verify: two answers to one request differ:\n${first.text}\n${second.text}`);
    const expected = first.text;

    const bodyFile = join(dir, "bare-body.json");
    writeFileSync(bodyFile, expected);
    const bare = await startBare({
      ...process.env,
      BENCH_BODY: bodyFile,
      BENCH_CERT: cert.certFile,
      BENCH_KEY: cert.keyFile,
    });
    children.push(bare.peer);
    const bareFirst = await post(bare.url, headers);
    if (bareFirst.status !== 200 || bareFirst.text !== expected)
      throw new MeasurementError(`bare peer: expected 200 and the service's bytes, got ${bareFirst.status}`);
    if (bareFirst.tls !== first.tls)
      throw new MeasurementError(`TLS differs: service \`${first.tls}\`, bare peer \`${bareFirst.tls}\``);

    await sleep(500);
    const rssIdle = vmRssMb(svc.pid);
    const sampler = new Sampler(svc.pid);

    const common = {
      method: "POST" as const,
      headers,
      body: VERIFY_BODY,
      connections: CONNECTIONS,
      timeout: REQUEST_TIMEOUT_MS / 1000,
      expectBody: expected,
      tlsOptions: { ca: caPem },
    };
    const pids = [svc.pid, bare.peer.pid];
    const servers = {
      verify: { url: verifyUrl, pid: svc.pid },
      bare: { url: bare.url, pid: bare.peer.pid },
    } as const;
    const runs = { verify: [] as RunFigures[], bare: [] as RunFigures[] };
    for (let r = 0; r < ROUNDS; r++) {
      const order = r % 2 === 0 ? (["verify", "bare"] as const) : (["bare", "verify"] as const);
      for (const which of order) {
        const { url, pid } = servers[which];
        sampler.loaded = which === "verify";
        await throughput(`${which} warm-up`, url, pid, pids, common, WARMUP_S);
        runs[which].push(await throughput(which, url, pid, pids, common, DURATION_S));
        sampler.loaded = false;
      }
    }

    // The same open-loop load on the bare peer is the floor: what this machine and this client
    // give at that rate with no service behind TLS.
    const agent = new Agent({ keepAlive: true, maxSockets: LATENCY_SOCKETS, ca: caPem });
    const latency = {} as Record<"verify" | "bare", Paced & { cpu: CpuShares }>;
    for (const which of ["verify", "bare"] as const) {
      const { url, pid } = servers[which];
      sampler.loaded = which === "verify";
      await paced(url, agent, headers, expected, LATENCY_RATE, LATENCY_WARMUP_S);
      const window = cpuWindow(pid, pids);
      const result = await paced(url, agent, headers, expected, LATENCY_RATE, LATENCY_S);
      latency[which] = { ...result, cpu: window.end() };
      sampler.loaded = false;
    }
    sampler.close();
    agent.destroy();

    const serviceExit = await stop(svc);
    if (serviceExit !== 0)
      console.error(`warning: the service exited ${serviceExit} on SIGTERM: ${svc.output()}`);
    await stop(bare.peer);

    const med = (xs: RunFigures[], f: (x: RunFigures) => number) => median(xs.map(f));
    const verifyRps = med(runs.verify, (x) => x.rps);
    const bareRps = med(runs.bare, (x) => x.rps);
    const ratio = verifyRps / bareRps;
    const pcts = (p: Paced) => {
      p.latencies.sort();
      p.lags.sort();
      return {
        p50: percentile(p.latencies, 0.5),
        p95: percentile(p.latencies, 0.95),
        p99: percentile(p.latencies, 0.99),
        lagP99: percentile(p.lags, 0.99),
      };
    };
    const lv = pcts(latency.verify);
    const lb = pcts(latency.bare);
    const rssLoad = Math.max(...sampler.rss);
    const others = Math.max(
      ...[...runs.verify, ...runs.bare].map((x) => x.cpu.others),
      latency.verify.cpu.others,
      latency.bare.cpu.others,
    );
    const met = { ratio: ratio >= TARGETS.ratio, p95_ms: lv.p95 <= TARGETS.p95_ms };

    const pct = (v: number) => `${v.toFixed(0)}%`;
    const mark = (ok: boolean) => (ok ? "met" : "MISSED");
    const ms = (l: typeof lv) => `${l.p50.toFixed(2)} / ${l.p95.toFixed(2)} / ${l.p99.toFixed(2)}`;
    console.log(
      `decision-service benchmark — node ${process.version}, ${process.platform}/${process.arch}, ` +
        `${availableParallelism()} cpus shared by client, service and peer; ${first.tls}`,
    );
    console.log(
      `throughput: autocannon, ${CONNECTIONS} connections, ${WARMUP_S} s warm-up + ${DURATION_S} s, ` +
        `${ROUNDS} alternating rounds, medians; latency: ${LATENCY_RATE} req/s open-loop for ${LATENCY_S} s ` +
        `over ${LATENCY_SOCKETS} keep-alive sockets`,
    );
    console.log("");
    console.log(
      table([
        ["figure", "value", "runs", "server µs cpu/req", "cpu server / client", "target", ""],
        [
          "POST /v1/verify (JWT, TLS) req/s",
          verifyRps.toFixed(0),
          runs.verify.map((x) => x.rps.toFixed(0)).join(", "),
          med(runs.verify, (x) => x.serverCpuUs).toFixed(0),
          `${pct(med(runs.verify, (x) => x.cpu.server))} / ${pct(med(runs.verify, (x) => x.cpu.client))}`,
          "",
          "",
        ],
        [
          "bare node:https req/s",
          bareRps.toFixed(0),
          runs.bare.map((x) => x.rps.toFixed(0)).join(", "),
          med(runs.bare, (x) => x.serverCpuUs).toFixed(0),
          `${pct(med(runs.bare, (x) => x.cpu.server))} / ${pct(med(runs.bare, (x) => x.cpu.client))}`,
          "",
          "",
        ],
        ["  ratio verify / bare", ratio.toFixed(2), "", "", "", `≥ ${TARGETS.ratio}`, mark(met.ratio)],
        [
          `verify at ${LATENCY_RATE}/s: p50 / p95 / p99 ms`,
          ms(lv),
          "",
          "",
          `${pct(latency.verify.cpu.server)} / ${pct(latency.verify.cpu.client)}`,
          `p95 ≤ ${TARGETS.p95_ms}`,
          mark(met.p95_ms),
        ],
        [
          "  achieved req/s; send lag p99 ms",
          `${latency.verify.achievedRps.toFixed(0)}; ${lv.lagP99.toFixed(2)}`,
          "",
          "",
          "",
          "",
          "",
        ],
        [
          `bare at ${LATENCY_RATE}/s (floor): p50 / p95 / p99 ms`,
          ms(lb),
          "",
          "",
          `${pct(latency.bare.cpu.server)} / ${pct(latency.bare.cpu.client)}`,
          "",
          "",
        ],
        [
          "service RSS idle / under load MiB",
          `${rssIdle.toFixed(1)} / ${rssLoad.toFixed(1)}`,
          "",
          "",
          "",
          "",
          "",
        ],
        ["other processes' cpu, worst phase", pct(others), "", "", "", "", ""],
      ]),
    );
    console.log("");
    if (others > NOISY_OTHERS_PCT)
      console.log(
        `warning: other processes used up to ${pct(others)} of a CPU during a measured phase; ` +
          "the figures of this run are noisy",
      );
    const missed = Object.entries(met)
      .filter(([, ok]) => !ok)
      .map(([k]) => k);
    console.log(
      `${missed.length === 0 ? "targets met" : `targets missed: ${missed.join(", ")}`}; ` +
        `total benchmark time ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    if (json)
      console.log(
        JSON.stringify({
          node_version: process.version,
          cpus: availableParallelism(),
          tls: first.tls,
          verify_rps: round(verifyRps, 0),
          bare_rps: round(bareRps, 0),
          ratio: round(ratio, 3),
          p50_ms: round(lv.p50, 2),
          p95_ms: round(lv.p95, 2),
          p99_ms: round(lv.p99, 2),
          achieved_rps: round(latency.verify.achievedRps, 0),
          schedule_lag_p99_ms: round(lv.lagP99, 2),
          bare_p95_ms: round(lb.p95, 2),
          bare_p99_ms: round(lb.p99, 2),
          rss_mb_idle: round(rssIdle, 1),
          rss_mb_under_load: round(rssLoad, 1),
          connections: CONNECTIONS,
          duration_s: DURATION_S,
          warmup_s: WARMUP_S,
          rounds: ROUNDS,
          latency_rate: LATENCY_RATE,
          latency_duration_s: LATENCY_S,
          verify_rps_runs: runs.verify.map((x) => round(x.rps, 0)),
          bare_rps_runs: runs.bare.map((x) => round(x.rps, 0)),
          service_cpu_us_per_req: round(
            med(runs.verify, (x) => x.serverCpuUs),
            0,
          ),
          bare_cpu_us_per_req: round(
            med(runs.bare, (x) => x.serverCpuUs),
            0,
          ),
          other_cpu_pct: round(others, 0),
          targets: { ratio: `>= ${TARGETS.ratio}`, p95_ms: `<= ${TARGETS.p95_ms}` },
          met,
        }),
      );
    return missed.length === 0 ? 0 : 1;
  } finally {
    for (const c of children) killGroup(c.child);
    await idp?.close().catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  }
}

const watchdog = setTimeout(() => {
  console.error(`bench:serve: measurement failed: not done within ${WATCHDOG_MS / 1000} s`);
  process.exit(2);
}, WATCHDOG_MS);
watchdog.unref();

let code: number;
try {
  code = await main();
} catch (err) {
  console.error(`bench:serve: measurement failed: ${(err as Error).message}`);
  code = 2;
}
// Exit now: keep-alive sockets and autocannon's timers need not hold the process open.
process.exit(code);
