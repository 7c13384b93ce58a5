import { randomBytes } from "node:crypto";
import { link, readFile, readlink, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { AssayError } from "../lib/errors.js";

/**
 * The claims this process holds or is making (each claim is unique: pid, host, nonce). A claim with
 * this process's pid that is not in here is a previous process's (a container restarted with the
 * same pid). A claim is added before its lock file is created and removed only after the file is
 * gone: the thread pool may report another taker's read of the new lock before it reports the
 * creation, and that taker must never see a live claim of this process as stale.
 */
const held = new Set<string>();

export interface LockOptions {
  /** What the file is, for messages (`decision log`, `pins file`). */
  what: string;
  /** How long to wait for a live holder to let go; 0 (the default) refuses at once. */
  waitMs?: number;
}

/**
 * A claim on a file shared between processes: `<file>.lock`, holding `pid@host`, next to the
 * file as its real path names it (so a symlink to it takes the same lock). Created in one step
 * (a hard link, which fails when the lock exists). A lock whose process is gone (same host) is
 * taken over, one taker at a time; a lock from another host is respected.
 */
export class FileLock {
  private constructor(
    readonly path: string,
    private readonly claim: string,
  ) {}

  static async acquire(file: string, opts: LockOptions): Promise<FileLock> {
    const path = `${await realTarget(file)}.lock`;
    const claim = newClaim();
    const deadline = Date.now() + (opts.waitMs ?? 0);
    // Bounded: a lock that keeps changing hands is not fought over for ever.
    for (let attempt = 0; attempt < 10_000; attempt++) {
      held.add(claim);
      let made = false;
      try {
        made = await create(path, claim, file, opts.what);
      } finally {
        if (!made) held.delete(claim);
      }
      if (made) return new FileLock(path, claim);
      const holder = await readClaim(path);
      if (holder === undefined) continue; // released meanwhile
      if (!alive(holder)) {
        await takeOver(path, holder, file, opts.what);
        continue;
      }
      if (Date.now() >= deadline) {
        const waited = opts.waitMs ? ` for ${opts.waitMs} ms` : "";
        throw new AssayError(
          "output_unwritable",
          `${opts.what} is in use by another gate (${holder.trim()}, lock \`${path}\`)${waited}: give each gate its own ${opts.what}, or remove the lock if that process is gone`,
          { where: file },
        );
      }
      await sleep(20);
    }
    throw new AssayError("output_unwritable", `cannot take the lock \`${path}\``, { where: file });
  }

  async release(): Promise<void> {
    if (!held.has(this.claim)) return;
    try {
      if ((await readClaim(this.path)) === this.claim) await rm(this.path, { force: true });
    } finally {
      held.delete(this.claim);
    }
  }
}

/** The file's real path (symlinks resolved), or its absolute path when it does not exist yet. */
async function realTarget(file: string): Promise<string> {
  try {
    return await realpath(file);
  } catch {
    return resolve(file);
  }
}

/**
 * Remove a stale lock, while holding `<lock>.takeover`: between reading the stale claim again and
 * removing it, no other taker can remove a lock created meanwhile by a live process (nothing can
 * create one while the stale one is there). A guard left by a taker that died is taken over too.
 */
async function takeOver(path: string, stale: string, file: string, what: string): Promise<void> {
  const guard = `${path}.takeover`;
  const guardClaim = newClaim();
  held.add(guardClaim);
  let made = false;
  try {
    made = await create(guard, guardClaim, file, what);
  } finally {
    if (!made) held.delete(guardClaim);
  }
  if (!made) {
    const guardHolder = await readClaim(guard);
    if (guardHolder !== undefined && !alive(guardHolder)) await rm(guard, { force: true });
    await sleep(5);
    return;
  }
  try {
    if ((await readClaim(path)) === stale) await rm(path, { force: true });
  } finally {
    await rm(guard, { force: true });
    held.delete(guardClaim);
  }
}

/** `pid@host nonce`: the nonce tells apart two claims of one process. */
function newClaim(): string {
  return `${process.pid}@${hostname()} ${randomBytes(6).toString("hex")}\n`;
}

/**
 * Create `path` holding `claim` in one step; false when it exists. On POSIX systems the lock is a
 * symbolic link whose target is the claim: one syscall, and no file with a random name appears
 * next to the log (`assay runner` records every file a gate opens, and two runs must list the same
 * ones). Windows, where making a symbolic link needs a privilege, gets a temporary file hard-linked
 * into place.
 */
async function create(path: string, claim: string, file: string, what: string): Promise<boolean> {
  if (process.platform !== "win32") {
    try {
      await symlink(claim, path);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
      throw unwritable(err, path, file, what);
    }
  }
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    await writeFile(tmp, claim, { mode: 0o644 });
  } catch (err) {
    throw unwritable(err, path, file, what);
  }
  try {
    await link(tmp, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw err;
  } finally {
    await rm(tmp, { force: true });
  }
}

function unwritable(err: unknown, path: string, file: string, what: string): AssayError {
  const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
  return new AssayError(
    "output_unwritable",
    `cannot lock the ${what}: \`${path}\` cannot be created (${code}); the ${what}'s directory must be writable`,
    { where: file, cause: err },
  );
}

/** The claim a lock holds: a symbolic link's target, or a regular file's text (Windows, or a lock an earlier version wrote). */
async function readClaim(path: string): Promise<string | undefined> {
  try {
    return await readlink(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return undefined;
    if (code !== "EINVAL" && code !== "UNKNOWN") throw err;
  }
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Whether the process named by a claim may still run: unknown hosts and unreadable claims count as alive. */
function alive(claim: string): boolean {
  const m = /^(\d+)@(\S*)(?: \S+)?\n?$/.exec(claim);
  if (!m || m[2] !== hostname()) return true;
  if (Number(m[1]) === process.pid) return held.has(claim);
  try {
    process.kill(Number(m[1]), 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "ESRCH";
  }
}
