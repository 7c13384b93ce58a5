import { createReadStream } from "node:fs";
import { access } from "node:fs/promises";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import type { KernelCapture, KernelCaptureResult } from "./backend.js";
import { reasonLine, runTool } from "./run-tool.js";
import { type StraceScan, scanStraceLog, straceEvents, straceFacts } from "./strace-parse.js";
import { KernelBackendUnavailable } from "./unavailable.js";

/**
 * The calls strace stops on: the events (open, openat, openat2, connect, execve, execveat) and the
 * ones that make processes and threads (so a thread's tid maps to its process's pid).
 */
export const STRACE_TRACED = "open,openat,openat2,connect,execve,execveat,clone,clone3,fork,vfork";

/**
 * strace 6.1's options (Debian bookworm), chosen so the log parses without guessing:
 * `-f` follow every child and thread, one log whose lines all start with the tid (unfinished calls
 * are joined back by the parser; `-ff` would write a file per thread, and lose the order between
 * them); `-q` no attach/detach chatter but keep `+++ exited +++` (the parser needs a thread's end
 * to tell a reused tid apart); `-X raw` numbers for every flag and constant (`-100`, `0x80241`);
 * `-xx` every string byte as `\xNN`, so a path with any byte reads back exactly; `-s 4096` strings up
 * to PATH_MAX; `--seccomp-bpf` stop only on the traced calls (every other syscall runs at full
 * speed); `-e signal=none` no signal lines.
 */
export function straceArgv(argv: readonly string[], logPath: string, bin = "strace"): string[] {
  return [
    bin,
    "-f",
    "-q",
    "-X",
    "raw",
    "-xx",
    "-s",
    "4096",
    "--seccomp-bpf",
    "-e",
    "signal=none",
    "-e",
    `trace=${STRACE_TRACED}`,
    "-o",
    logPath,
    "--",
    ...argv,
  ];
}

/** Options of a strace capture. */
export interface StraceOptions {
  /** Where the log goes. */
  scratchDir: string;
  /** The strace binary (default `strace` on PATH). */
  bin?: string;
}

/**
 * A strace capture: strace runs the agent (`command` wraps its argv; run that inside the cgroup,
 * as the agent would be) and writes `<scratchDir>/strace.log`, read after the agent exited. Rejects
 * with KernelBackendUnavailable when strace is missing or cannot trace here (ptrace forbidden).
 *
 * Drops are always 0: ptrace stops the tracee at each traced call until strace has written it.
 */
export async function startStrace(options: StraceOptions): Promise<KernelCapture> {
  const bin = options.bin ?? "strace";
  const why = await straceUnusable(bin);
  if (why !== null) throw new KernelBackendUnavailable("strace", why);
  // Absolute: strace opens it in the agent's working directory.
  const logPath = resolve(join(options.scratchDir, "strace.log"));
  let finished: Promise<KernelCaptureResult> | undefined;
  return {
    backend: "strace",
    command: (argv) => straceArgv(argv, logPath, bin),
    finish: () => {
      finished ??= finishStrace(logPath);
      return finished;
    },
    // Nothing of ours runs until the agent (strace) starts: the caller stops that.
    abort: async () => {},
  };
}

async function finishStrace(logPath: string): Promise<KernelCaptureResult> {
  const present = await access(logPath).then(
    () => true,
    () => false,
  );
  if (!present) {
    // strace never wrote its log (it failed to start, or was killed at once): nothing is known.
    const empty: StraceScan = {
      threads: new Map(),
      parseErrors: 0,
      hooks: { openat: 0, openat2: 0, connect: 0 },
      records: 0,
      rootEnded: false,
    };
    return {
      events: (async function* () {})(),
      facts: { ...straceFacts(empty), closed_early: true },
      warnings: ["strace wrote no log: it could not start, or was killed at once"],
    };
  }
  const scan = await scanStraceLog(logLines(logPath));
  return { events: straceEvents(logLines(logPath), scan), facts: straceFacts(scan), warnings: [] };
}

/**
 * The log's lines. A generator, so the file is opened only when iteration starts: a readline
 * interface reads from the moment it is made, and lines it emits before a `for await` begins are
 * lost (the events are read long after finish() returned).
 */
async function* logLines(path: string): AsyncGenerator<string> {
  // -xx leaves only ASCII in the log; latin1 keeps any other byte one character.
  yield* createInterface({
    input: createReadStream(path, { encoding: "latin1" }),
    crlfDelay: Number.POSITIVE_INFINITY,
  });
}

/**
 * Why strace cannot trace here, or null: a real run of `sh -c :` under the options we use (ptrace
 * can be forbidden by a container's seccomp profile or by Yama).
 */
export async function straceUnusable(bin = "strace"): Promise<string | null> {
  const run = await runTool(
    bin,
    [
      "-f",
      "-qq",
      "-o",
      "/dev/null",
      "-X",
      "raw",
      "-xx",
      "--seccomp-bpf",
      "-e",
      `trace=${STRACE_TRACED}`,
      "/bin/sh",
      "-c",
      ":",
    ],
    { timeoutMs: 30_000 },
  );
  if (run.spawnError !== null)
    return run.spawnError.code === "ENOENT"
      ? "strace is not installed"
      : `cannot run strace: ${run.spawnError.code}`;
  if (run.timedOut) return "strace did not finish a trial run within 30 s";
  if (run.code !== 0)
    return `strace cannot trace here: ${reasonLine(run.stderr) || `exit ${run.code ?? run.signal}`}`;
  return null;
}
