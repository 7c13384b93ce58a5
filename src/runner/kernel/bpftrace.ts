import { type ChildProcessByStdio, spawn } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { signalGroup } from "../../lib/process-group.js";
import type { Cgroup } from "../cgroup.js";
import type { KernelCaptureFacts } from "../contract.js";
import type { KernelCapture, KernelCaptureResult } from "./backend.js";
import { BpftraceParser, bpftraceFacts } from "./bpftrace-parse.js";
import { bpftraceScript, flushRequest, newFlushToken, STRLEN } from "./bpftrace-script.js";
import { EventFileWriter, readEventBatches } from "./event-file.js";
import { reasonLine } from "./run-tool.js";
import { KernelBackendUnavailable } from "./unavailable.js";

/** Options of a bpftrace capture; only `cgroup` and `scratchDir` are required. */
export interface BpftraceOptions {
  cgroup: Cgroup;
  /** Where the script and the raw events go. */
  scratchDir: string;
  /** How long bpftrace keeps reading after the agent exited, before SIGINT (default 100 ms). */
  drainMs?: number;
  /** How long compiling and attaching may take (default 60 s: LLVM is slow on a small VM). */
  readyTimeoutMs?: number;
  /** How long the flush before SIGINT may wait for every CPU's buffer to be read (default 10 s). */
  flushTimeoutMs?: number;
  /**
   * How long bpftrace may take to exit after SIGINT before it is killed (default 60 s). bpftrace
   * 0.17 detaches its probes one by one before it runs END, each detach waiting on the kernel:
   * about 0.8 s in all on a quiet 2-vCPU VM. With a 10 s limit, two of about fifteen test-suite
   * runs ended a capture killed at it (10 s late, its counters lost).
   */
  stopTimeoutMs?: number;
  /**
   * Perf buffer pages per CPU (a power of two; default 1024 = 4 MiB per CPU). bpftrace 0.17's
   * default of 64 pages loses records as soon as the reader falls 256 KiB behind.
   */
  perfPages?: number;
  /**
   * BPFTRACE_MAP_KEYS_MAX, the size of every map; it bounds the in-flight (enter → exit) maps, so
   * the threads inside one traced syscall at once (default 16384; bpftrace 0.17's own is 4096). A
   * full hash map refuses an update without a word (bpftrace ignores the helper's error unless
   * run with -k); the `@enter_*`/`@event_*` counters turn that into counted drops.
   */
  mapKeys?: number;
  /** The bpftrace binary (default `bpftrace` on PATH). */
  bin?: string;
}

const DEFAULTS = {
  drainMs: 100,
  readyTimeoutMs: 60_000,
  flushTimeoutMs: 10_000,
  stopTimeoutMs: 60_000,
  perfPages: 1024,
  mapKeys: 16_384,
};
const STDERR_LIMIT = 16 * 1024;
const FLUSH_REPEAT_MS = 100;
// bpftrace 0.17 prints this as "ERROR:" on every start where it cannot raise RLIMIT_MEMLOCK, then
// carries on (since Linux 5.11 BPF memory is charged to the cgroup, not to that limit).
const MEMLOCK_NOISE = /RLIMIT_MEMLOCK/;

/**
 * Start bpftrace on the cgroup's opens, connects and execs. Resolves once every probe is attached
 * (the BEGIN marker, printed after attaching); rejects with KernelBackendUnavailable if bpftrace is
 * missing, not permitted, or fails to compile or attach. Records are parsed as they arrive and
 * written to `<scratchDir>/bpftrace-events.ndjson`.
 */
export async function startBpftrace(options: BpftraceOptions): Promise<KernelCapture> {
  const o = {
    cgroup: options.cgroup,
    scratchDir: options.scratchDir,
    drainMs: options.drainMs ?? DEFAULTS.drainMs,
    readyTimeoutMs: options.readyTimeoutMs ?? DEFAULTS.readyTimeoutMs,
    flushTimeoutMs: options.flushTimeoutMs ?? DEFAULTS.flushTimeoutMs,
    stopTimeoutMs: options.stopTimeoutMs ?? DEFAULTS.stopTimeoutMs,
    perfPages: options.perfPages ?? DEFAULTS.perfPages,
    mapKeys: options.mapKeys ?? DEFAULTS.mapKeys,
    bin: options.bin ?? "bpftrace",
  };
  const scriptPath = join(o.scratchDir, "capture.bt");
  const eventsPath = join(o.scratchDir, "bpftrace-events.ndjson");
  const flushToken = newFlushToken();
  let script: string;
  try {
    script = bpftraceScript(o.cgroup.path, flushToken);
  } catch (err) {
    throw new KernelBackendUnavailable("bpftrace", (err as Error).message);
  }
  await writeFile(scriptPath, script);

  const child = spawn(o.bin, ["-B", "line", scriptPath], {
    stdio: ["ignore", "pipe", "pipe"],
    // Its own process group: a ^C meant for the runner must not end the capture early.
    detached: true,
    env: {
      ...process.env,
      BPFTRACE_STRLEN: String(STRLEN),
      BPFTRACE_PERF_RB_PAGES: String(o.perfPages),
      BPFTRACE_MAP_KEYS_MAX: String(o.mapKeys),
    },
  });
  const run = new BpftraceRun(child, new EventFileWriter(eventsPath), o.cgroup.id, flushToken);
  try {
    await run.ready(o.readyTimeoutMs);
  } catch (err) {
    await run.abort();
    throw err;
  }
  return {
    backend: "bpftrace",
    command: (argv) => [...argv],
    finish: () => run.finish(o, eventsPath),
    abort: () => run.abort(),
  };
}

/** One bpftrace process: its output pump, its readiness, and its stop. */
class BpftraceRun {
  private readonly parser = new BpftraceParser();
  private stderr = "";
  private exit: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  private spawnError: Error | null = null;
  private readonly closed: Promise<void>;
  private readonly pumped: Promise<void>;
  private finished: Promise<KernelCaptureResult> | undefined;
  /** abort() killed bpftrace: how it ended is ours, not bpftrace failing. */
  private abortKilled = false;
  private readonly killOnExit = () => signalGroup(this.child, "SIGKILL");

  constructor(
    private readonly child: ChildProcessByStdio<null, Readable, Readable>,
    private readonly writer: EventFileWriter,
    private readonly cgroupId: number,
    private readonly flushToken: number,
  ) {
    // A runner that dies must not leave bpftrace attached.
    process.on("exit", this.killOnExit);
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d: string) => {
      if (this.stderr.length < STDERR_LIMIT) this.stderr += d;
    });
    this.closed = new Promise<void>((resolve) => {
      child.once("error", (err) => {
        this.spawnError = err;
        resolve();
      });
      child.once("close", (code, signal) => {
        this.exit = { code, signal };
        resolve();
      });
    }).then(() => {
      process.removeListener("exit", this.killOnExit);
    });
    this.pumped = this.pump();
    // Observed at once: a failure surfaces in stop() instead of ending the process as an
    // unhandled rejection.
    this.pumped.catch(() => {});
  }

  /**
   * Read stdout to its end: parse each line, write the events, let the writer hold the reader
   * back. Once a write has failed, the rest is still read (and dropped): bpftrace blocked on a
   * full pipe would not exit until killed. stop() reports the failure (the writer rejects).
   */
  private async pump(): Promise<void> {
    // Our records are ASCII; latin1 keeps any other byte one character.
    this.child.stdout.setEncoding("latin1");
    const lines = createInterface({ input: this.child.stdout, crlfDelay: Number.POSITIVE_INFINITY });
    let writing = true;
    for await (const line of lines) {
      const events = this.parser.line(line);
      if (!writing) continue;
      const wait = this.writer.write(events);
      if (wait)
        await wait.catch(() => {
          writing = false;
        });
    }
  }

  async ready(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const id = this.parser.counts().readyCgroupId;
      if (id !== null) {
        if (id !== this.cgroupId)
          throw new KernelBackendUnavailable(
            "bpftrace",
            `bpftrace resolved the cgroup to id ${id}, not its inode ${this.cgroupId}`,
          );
        return;
      }
      if (this.spawnError !== null) {
        const code = (this.spawnError as NodeJS.ErrnoException).code;
        throw new KernelBackendUnavailable(
          "bpftrace",
          code === "ENOENT"
            ? "bpftrace is not installed"
            : `cannot run bpftrace: ${code ?? this.spawnError.message}`,
          this.spawnError,
        );
      }
      if (this.exit !== null) {
        const why = reasonLine(this.stderr, MEMLOCK_NOISE) || `exit ${this.exit.code ?? this.exit.signal}`;
        throw new KernelBackendUnavailable("bpftrace", `bpftrace failed to attach: ${why}`);
      }
      if (Date.now() >= deadline)
        throw new KernelBackendUnavailable("bpftrace", `bpftrace did not attach within ${timeoutMs} ms`);
      await Promise.race([this.closed, sleep(10)]);
    }
  }

  /** After the agent exited: drain, SIGINT, read to the end; the events and the facts. */
  finish(timers: StopTimers, eventsPath: string): Promise<KernelCaptureResult> {
    this.finished ??= this.stop(timers).then(async ({ facts, warnings }) => ({
      events: readEventBatches(eventsPath),
      facts,
      warnings,
    }));
    return this.finished;
  }

  private async stop(timers: StopTimers): Promise<{ facts: KernelCaptureFacts; warnings: string[] }> {
    const warnings: string[] = [];
    const gone = () => this.exit !== null || this.spawnError !== null;
    let closedEarly = gone();
    let killed = false;
    if (!closedEarly) {
      await sleep(timers.drainMs);
      // Without this, records still queued in the perf buffers at SIGINT are lost (see bpftraceScript).
      const flushed = await this.flush(timers.flushTimeoutMs);
      // bpftrace ended by itself before our SIGINT (before the agent was done, or during the drain).
      closedEarly = gone();
      if (!flushed && !closedEarly)
        warnings.push(
          `bpftrace did not read every CPU's buffer within ${seconds(timers.flushTimeoutMs)} of the flush request: records still queued may be lost (counted as drops)`,
        );
    }
    if (!closedEarly) {
      // SIGINT makes bpftrace run END and print its maps; only bpftrace, not a group it may have.
      this.child.kill("SIGINT");
      const timer = setTimeout(() => {
        killed = true;
        signalGroup(this.child, "SIGKILL");
      }, timers.stopTimeoutMs);
      await this.closed;
      clearTimeout(timer);
    }
    // Lines bpftrace wrote before it exited may still be on their way: read to the end first.
    await this.pumped.catch(() => {});
    // How bpftrace ended. A kill by abort() is ours: bpftrace is not to blame for it.
    if (this.abortKilled) warnings.push("the capture was aborted: bpftrace was killed");
    else if (closedEarly) warnings.push(`bpftrace ended before the capture did (${this.ending()})`);
    else if (killed)
      warnings.push(
        `bpftrace did not exit within ${seconds(timers.stopTimeoutMs)} of SIGINT and was killed: its counters are unknown`,
      );
    else if (this.exit?.code !== 0) warnings.push(`bpftrace failed at its exit (${this.ending()})`);
    else if (!this.parser.counts().ended) warnings.push("bpftrace exited without printing its counters");
    await this.writer.write(this.parser.end());
    await this.writer.close();
    const summarized = this.parser.counts().ended && !killed && this.exit?.code === 0;
    const facts = bpftraceFacts(this.parser.counts(), summarized, closedEarly);
    return { facts, warnings };
  }

  /** How bpftrace ended, for a warning: its exit and the first line of its stderr that says why. */
  private ending(): string {
    if (this.spawnError !== null) return this.spawnError.message;
    const how = this.exit?.signal ? `signal ${this.exit.signal}` : `exit ${this.exit?.code}`;
    const why = reasonLine(this.stderr, MEMLOCK_NOISE);
    return why ? `${how}: ${why}` : how;
  }

  /**
   * Ask every CPU for an ASSAY_TICK (see bpftraceScript) and wait until each one has
   * answered a request made now: then every record written before now has been read. False on
   * timeout (bpftrace far behind, or a CPU that never ticks): what is still queued is then lost,
   * and counted as dropped.
   */
  private async flush(timeoutMs: number): Promise<boolean> {
    const cpus = await onlineCpus();
    const requested = process.hrtime.bigint();
    const deadline = Date.now() + timeoutMs;
    let asked = 0;
    for (;;) {
      // Asked again now and then: a tick lost to a full buffer is not printed twice for one request.
      if (Date.now() - asked >= FLUSH_REPEAT_MS) {
        flushRequest(this.flushToken);
        asked = Date.now();
      }
      const ticks = this.parser.counts().ticks;
      if (cpus.every((c) => (ticks.get(c) ?? -1n) >= requested)) return true;
      if (this.exit !== null || Date.now() >= deadline) return false;
      await Promise.race([this.closed, sleep(2)]);
    }
  }

  /**
   * Stop without results (the agent never ran, or the runner was interrupted): SIGKILL, wait,
   * close the file. Also during a stop: whoever aborts wants bpftrace gone now, not after its
   * detach (up to stopTimeoutMs); the stop then ends as it would have, and owns the file.
   */
  async abort(): Promise<void> {
    if (this.exit === null && this.spawnError === null) {
      this.abortKilled = true;
      signalGroup(this.child, "SIGKILL");
    }
    if (this.finished !== undefined) {
      await this.finished.catch(() => {});
      return;
    }
    await this.closed;
    await this.pumped.catch(() => {});
    // What the stop would add (a path still in pieces), so that a finish() after this one has
    // nothing left to write to the closed file.
    await this.writer.write(this.parser.end())?.catch(() => {});
    await this.writer.close().catch(() => {});
  }
}

/** The online CPUs (`/sys/devices/system/cpu/online`, e.g. `0-3,6`): each has a perf buffer of its own. */
async function onlineCpus(): Promise<number[]> {
  const text = await readFile("/sys/devices/system/cpu/online", "utf8").catch(() => null);
  if (text === null) return [...Array(cpus().length).keys()];
  const out: number[] = [];
  for (const part of text.trim().split(",")) {
    const [a, b] = part.split("-").map(Number) as [number, number | undefined];
    for (let c = a; c <= (b ?? a); c++) out.push(c);
  }
  return out;
}

/** The timers of a bpftrace capture's stop. */
interface StopTimers {
  drainMs: number;
  flushTimeoutMs: number;
  stopTimeoutMs: number;
}

function seconds(ms: number): string {
  return `${ms / 1000} s`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
