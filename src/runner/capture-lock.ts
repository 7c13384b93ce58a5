import { readlink, rm, symlink } from "node:fs/promises";
import { join } from "node:path";
import { AssayError } from "../lib/errors.js";

/**
 * Hold `<base>/capture.lock` while a capture of `runId` runs: two captures of one run id would
 * share their work and scratch directories. The lock is a symbolic link to this process's pid,
 * made in one step (never seen half-written); one left by a process that is gone is taken over.
 * Returns the release function (safe to call twice).
 */
export async function captureLock(base: string, runId: string): Promise<() => Promise<void>> {
  const file = join(base, "capture.lock");
  const claim = String(process.pid);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await symlink(claim, file);
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        if ((await readlink(file).catch(() => null)) === claim) await rm(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = await readlink(file).catch(() => "");
      const pid = Number(holder);
      if (!/^\d+$/.test(holder) || alive(pid))
        throw new AssayError(
          "runner_capture_failed",
          `another capture of run \`${runId}\` is running (${holder === "" ? "lock unreadable" : `pid ${holder}`}); give a different --run-id, or remove the lock if that process is gone`,
          { where: file },
        );
      await rm(file, { force: true });
    }
  }
  throw new AssayError("runner_capture_failed", `cannot take the capture lock of run \`${runId}\``, {
    where: file,
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}
