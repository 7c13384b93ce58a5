import { randomBytes } from "node:crypto";
import { access, mkdir, readdir, readFile, rmdir, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { AssayError } from "../lib/errors.js";

/**
 * A fresh cgroup v2 directory the agent runs in: the kernel backends watch exactly this cgroup
 * (bpftrace filters on its id; strace runs inside it too, so everything the agent starts is in it).
 */
export interface Cgroup {
  /** The directory, e.g. `/sys/fs/cgroup/unified/assay-runner/run_x-1a2b3c4d`. */
  readonly path: string;
  /**
   * The kernel's cgroup id: the directory's inode number (on 64-bit kernels kernfs uses the id as the
   * inode; it counts cgroups created since boot, far below 2^53, and a larger one is refused).
   */
  readonly id: number;
  /** An argv that joins this cgroup, then execs `argv` (same pid: the agent is the joined process). */
  wrap(argv: readonly string[]): string[];
  /** Whether everything in it (and below it) has exited within `ms`; polls, kills nothing. */
  waitEmpty(ms: number): Promise<boolean>;
  /** Kill whatever still runs in it (and in cgroups the agent made below it), then remove it. Idempotent. */
  remove(): Promise<void>;
}

/** Exit status of the wrapper when it cannot join the cgroup (the agent never started), as env(1) uses 125. */
export const CGROUP_JOIN_FAILED_EXIT = 125;

const PARENT = "assay-runner";
const NAME = /^[A-Za-z0-9_.-]{1,200}$/;
const EMPTY_WAIT_MS = 5000;
const POLL_MS = 10;

// `$0` is the cgroup directory, the rest is the agent's argv; `exec` keeps the pid that joined.
const JOIN_SCRIPT = `echo $$ > "$0/cgroup.procs" || { echo "assay: cannot join cgroup $0" >&2; exit ${CGROUP_JOIN_FAILED_EXIT}; }; exec "$@"`;

/**
 * Make a fresh cgroup `<cgroup2 mount>/assay-runner/<name>-<8 hex>`. Fails with
 * `runner_kernel_unavailable` and a message `cgroup_unavailable: <reason>` (the line the health
 * notes carry) when there is no cgroup2 mount or it cannot be written.
 */
export async function createCgroup(name: string): Promise<Cgroup> {
  if (!NAME.test(name)) throw new AssayError("internal", `bad cgroup name \`${name}\``);
  const mount = await cgroup2Mount();
  if (mount === null) throw unavailable("no cgroup2 mount");
  if (!mount.writable) throw unavailable(`cgroup2 mount \`${mount.path}\` is read-only`);
  const parent = join(mount.path, PARENT);
  try {
    await mkdir(parent, { recursive: true });
  } catch (err) {
    throw unavailable(`cannot create \`${parent}\`: ${errCode(err)}`);
  }
  let path = "";
  for (let attempt = 0; ; attempt++) {
    path = join(parent, `${name}-${randomBytes(4).toString("hex")}`);
    try {
      await mkdir(path);
      break;
    } catch (err) {
      if (errCode(err) === "EEXIST" && attempt < 3) continue;
      throw unavailable(`cannot create \`${path}\`: ${errCode(err)}`);
    }
  }
  let id: number;
  try {
    await access(join(path, "cgroup.procs"));
    // bpftrace watches this one cgroup by id: a child cgroup the agent made and moved into would
    // take it out of sight, uncounted. No descendants, so mkdir there fails (EAGAIN).
    await writeFile(join(path, "cgroup.max.descendants"), "0");
    const ino = (await stat(path, { bigint: true })).ino;
    if (ino > BigInt(Number.MAX_SAFE_INTEGER)) throw new Error(`cgroup id ${ino} is not a safe integer`);
    id = Number(ino);
  } catch (err) {
    await rmdir(path).catch(() => {});
    throw unavailable(
      `\`${path}\` is not a usable cgroup: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  let removed: Promise<void> | undefined;
  return {
    path,
    id,
    wrap: (argv) => ["/bin/sh", "-c", JOIN_SCRIPT, path, ...argv],
    waitEmpty: async (ms) => {
      const deadline = Date.now() + ms;
      while (await populated(path)) {
        if (Date.now() >= deadline) return false;
        await sleep(POLL_MS);
      }
      return true;
    },
    remove: () => {
      removed ??= removeTree(path);
      return removed;
    },
  };
}

/** Where cgroup v2 is mounted (the first `cgroup2` line of /proc/self/mountinfo), or null. */
export async function cgroup2Mount(): Promise<{ path: string; writable: boolean } | null> {
  let text: string;
  try {
    text = await readFile("/proc/self/mountinfo", "utf8");
  } catch {
    return null;
  }
  for (const m of parseMountinfo(text)) {
    if (m.fstype === "cgroup2") return { path: m.mountPoint, writable: m.options.split(",").includes("rw") };
  }
  return null;
}

/** One line of /proc/self/mountinfo, the fields we use. */
export interface MountEntry {
  mountPoint: string;
  options: string;
  fstype: string;
}

/** Parse /proc/self/mountinfo (proc(5)): octal escapes (`\040`) in paths are decoded. */
export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split("\n")) {
    const fields = line.split(" ");
    // Optional fields end at a lone "-"; the filesystem type follows it.
    const dash = fields.indexOf("-", 6);
    const mountPoint = fields[4];
    const options = fields[5];
    const fstype = fields[dash + 1];
    if (dash < 0 || mountPoint === undefined || options === undefined || fstype === undefined) continue;
    out.push({ mountPoint: unescapeOctal(mountPoint), options, fstype });
  }
  return out;
}

function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
}

async function removeTree(path: string): Promise<void> {
  if (!(await exists(path))) return;
  await killAll(path);
  await removeDir(path);
}

/** Kill every process in the cgroup and below: `cgroup.kill` (Linux 5.14+), else freeze and SIGKILL each pid. */
async function killAll(path: string): Promise<void> {
  const kill = join(path, "cgroup.kill");
  if (await exists(kill)) {
    await writeFile(kill, "1").catch(() => {});
  } else {
    const freeze = join(path, "cgroup.freeze");
    const canFreeze = await exists(freeze);
    // Frozen, nothing can fork between reading the pids and killing them.
    if (canFreeze) await writeFile(freeze, "1").catch(() => {});
    for (const dir of await treeDirs(path)) {
      for (const pid of await pids(dir)) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // Already gone.
        }
      }
    }
    // A frozen task dies only once thawed.
    if (canFreeze) await writeFile(freeze, "0").catch(() => {});
  }
  const deadline = Date.now() + EMPTY_WAIT_MS;
  while (Date.now() < deadline) {
    if (!(await populated(path))) return;
    await sleep(POLL_MS);
  }
}

/** Remove child cgroups first (rmdir of a cgroup with children fails), then the cgroup. */
async function removeDir(path: string): Promise<void> {
  const dirs = (await treeDirs(path)).reverse();
  for (const dir of dirs) {
    const deadline = Date.now() + EMPTY_WAIT_MS;
    for (;;) {
      try {
        await rmdir(dir);
        break;
      } catch (err) {
        const code = errCode(err);
        if (code === "ENOENT") break;
        // EBUSY: the last task is still leaving (or a kernel with the freezer's lag); try again.
        if ((code === "EBUSY" || code === "ENOTEMPTY") && Date.now() < deadline) {
          await sleep(POLL_MS);
          continue;
        }
        throw new AssayError("runner_capture_failed", `cannot remove cgroup \`${dir}\`: ${code}`, {
          cause: err,
        });
      }
    }
  }
}

/** The cgroup and every cgroup below it, parents before children. */
async function treeDirs(path: string): Promise<string[]> {
  const out = [path];
  for (let i = 0; i < out.length; i++) {
    const dir = out[i] as string;
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) if (e.isDirectory()) out.push(join(dir, e.name));
  }
  return out;
}

async function pids(dir: string): Promise<number[]> {
  const text = await readFile(join(dir, "cgroup.procs"), "utf8").catch(() => "");
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map(Number);
}

/** `populated 1` in cgroup.events covers the cgroup and its descendants. */
async function populated(path: string): Promise<boolean> {
  const text = await readFile(join(path, "cgroup.events"), "utf8").catch(() => null);
  if (text === null) {
    for (const dir of await treeDirs(path)) if ((await pids(dir)).length > 0) return true;
    return false;
  }
  return /^populated 1$/m.test(text);
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function unavailable(reason: string): AssayError {
  return new AssayError("runner_kernel_unavailable", `cgroup_unavailable: ${reason}`);
}

function errCode(err: unknown): string {
  return (err as NodeJS.ErrnoException)?.code ?? String(err);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
