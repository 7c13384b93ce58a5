import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream } from "node:fs";
import { createInterface } from "node:readline";

/**
 * Long-running children of a conformance run (servers, bridges, proxies): each is started in a
 * process group of its own, found ready by a line it prints, and stopped by its group id
 * (SIGTERM, then SIGKILL), so nothing it started outlives the run.
 */
export interface Service {
  name: string;
  url: string;
  pid: number;
  /** Whether it exited before it was stopped. */
  exited(): boolean;
  stop(): Promise<void>;
}

export class ServiceError extends Error {}

const running = new Set<ChildProcess>();

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone already
  }
}

function waitExit(child: ChildProcess, ms: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  signalGroup(child, "SIGTERM");
  if (!(await waitExit(child, 6000))) signalGroup(child, "SIGKILL");
  // what the group leader left behind (a bridge's children) goes too
  signalGroup(child, "SIGKILL");
  running.delete(child);
}

/**
 * Start `cmd args`, its stdout and stderr appended to `logFile`, and wait (at most `timeoutMs`)
 * for a line from which `ready` reads the service's URL.
 */
export async function startService(opts: {
  name: string;
  cmd: string;
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  logFile: string;
  ready: (line: string) => string | undefined;
  timeoutMs?: number;
}): Promise<Service> {
  const log = createWriteStream(opts.logFile, { flags: "a" });
  const child = spawn(opts.cmd, opts.args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  running.add(child);
  let exited = false;
  child.once("exit", () => {
    exited = true;
    running.delete(child);
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new ServiceError(`${opts.name} did not say it was ready within ${opts.timeoutMs ?? 30_000} ms`),
        ),
      opts.timeoutMs ?? 30_000,
    );
    const onLine = (line: string) => {
      log.write(`${line}\n`);
      const url = opts.ready(line);
      if (url !== undefined) {
        clearTimeout(timer);
        resolve(url);
      }
    };
    if (child.stdout === null || child.stderr === null) throw new ServiceError(`${opts.name}: no pipes`);
    createInterface({ input: child.stdout }).on("line", onLine);
    createInterface({ input: child.stderr }).on("line", onLine);
    child.once("error", (err) => {
      clearTimeout(timer);
      reject(new ServiceError(`${opts.name} could not be started: ${err.message}`));
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(
        new ServiceError(
          `${opts.name} exited (${signal ?? `exit ${code}`}) before it was ready; see ${opts.logFile}`,
        ),
      );
    });
  }).catch(async (err: unknown) => {
    await stopChild(child);
    throw err;
  });
  return {
    name: opts.name,
    url,
    pid: child.pid ?? -1,
    exited: () => exited,
    stop: async () => {
      await stopChild(child);
      log.end();
    },
  };
}

/** Stop every service still running (on the way out, whatever happened). */
export async function stopAllServices(): Promise<void> {
  await Promise.all([...running].map(stopChild));
}

/** The same, synchronously, for `process.on("exit")`: SIGKILL to every group left. */
export function killAllServicesNow(): void {
  for (const child of running) signalGroup(child, "SIGKILL");
}
