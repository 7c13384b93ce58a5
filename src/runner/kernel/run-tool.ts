import { spawn } from "node:child_process";

/** How a short tool run ended. */
export interface ToolRun {
  /** Set when the tool could not be started (`ENOENT`: not installed). */
  spawnError: NodeJS.ErrnoException | null;
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
}

const OUTPUT_LIMIT = 64 * 1024;

/** Run a short command to its end (SIGKILL after `timeoutMs`), keeping the head of its output. */
export function runTool(
  bin: string,
  args: readonly string[],
  opts: { timeoutMs: number; env?: NodeJS.ProcessEnv },
): Promise<ToolRun> {
  return new Promise((resolve) => {
    const run: ToolRun = {
      spawnError: null,
      code: null,
      signal: null,
      timedOut: false,
      stdout: "",
      stderr: "",
    };
    const child = spawn(bin, args, { stdio: ["ignore", "pipe", "pipe"], env: opts.env ?? process.env });
    const timer = setTimeout(() => {
      run.timedOut = true;
      child.kill("SIGKILL");
    }, opts.timeoutMs);
    child.stdout.setEncoding("utf8");
    child.stderr.setEncoding("utf8");
    child.stdout.on("data", (d: string) => {
      if (run.stdout.length < OUTPUT_LIMIT) run.stdout += d;
    });
    child.stderr.on("data", (d: string) => {
      if (run.stderr.length < OUTPUT_LIMIT) run.stderr += d;
    });
    child.once("error", (err) => {
      clearTimeout(timer);
      run.spawnError = err;
      resolve(run);
    });
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      run.code = code;
      run.signal = signal;
      resolve(run);
    });
  });
}

/** The line of a tool's stderr that says what went wrong: the first error line, else the last line. */
export function reasonLine(stderr: string, ignore: RegExp | null = null): string {
  const lines = stderr
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !(ignore?.test(l) ?? false));
  return lines.find((l) => /error/i.test(l)) ?? lines.at(-1) ?? "";
}
