import { randomBytes } from "node:crypto";
import { link, readFile, rm, writeFile } from "node:fs/promises";
import { hostname } from "node:os";
import { resolve } from "node:path";
import { AssayError } from "../lib/errors.js";

/** Locks this process holds: a claim with this process's pid but not in here is a previous process's (a container restarted with the same pid). */
const held = new Set<string>();

/**
 * The claim of one live gate on a decision log file (`<log>.lock`, holding `pid@host`). The
 * log's writer cuts off a record a failed write left half done, and drops a half line on
 * opening; both are safe only while no other process appends to the file, so a second gate
 * asking for a log a live gate holds is refused. A lock whose process is gone (same host) is
 * taken over.
 */
export class LogLock {
  private constructor(
    readonly path: string,
    private readonly claim: string,
  ) {}

  static async acquire(logPath: string): Promise<LogLock> {
    const path = `${resolve(logPath)}.lock`;
    const claim = `${process.pid}@${hostname()}\n`;
    // Bounded: a lock that keeps changing hands is not waited for.
    for (let attempt = 0; attempt < 5; attempt++) {
      if (await create(path, claim)) {
        held.add(path);
        return new LogLock(path, claim);
      }
      const holder = await readClaim(path);
      if (holder === undefined) continue; // released meanwhile
      if (alive(holder, path)) {
        throw new AssayError(
          "output_unwritable",
          `decision log is in use by another gate (${holder.trim()}, lock \`${path}\`): give each gate its own log, or remove the lock if that process is gone`,
          { where: logPath },
        );
      }
      // Stale: removed only if it is still the claim judged stale.
      if ((await readClaim(path)) === holder) await rm(path, { force: true });
    }
    throw new AssayError("output_unwritable", `cannot take the lock \`${path}\``, { where: logPath });
  }

  async release(): Promise<void> {
    if (!held.delete(this.path)) return;
    if ((await readClaim(this.path)) === this.claim) await rm(this.path, { force: true });
  }
}

/** Create the lock with its content in one step (a hard link fails when the lock exists). */
async function create(path: string, claim: string): Promise<boolean> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  await writeFile(tmp, claim, { mode: 0o644 });
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

async function readClaim(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}

/** Whether the process named by a claim may still run: unknown hosts and unreadable claims count as alive. */
function alive(claim: string, path: string): boolean {
  const m = /^(\d+)@(.*)\n?$/.exec(claim);
  if (!m || m[2] !== hostname()) return true;
  if (Number(m[1]) === process.pid) return held.has(path);
  try {
    process.kill(Number(m[1]), 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code !== "ESRCH";
  }
}
