import { open, readFile, rm } from "node:fs/promises";
import { join } from "node:path";
import { AssayError } from "../lib/errors.js";

/**
 * Hold `<base>/capture.lock` while a capture of `runId` runs: two captures of one run id would
 * share their work and scratch directories. A lock left by a process that is gone is taken over.
 * Returns the release function (safe to call twice).
 */
export async function captureLock(base: string, runId: string): Promise<() => Promise<void>> {
  const file = join(base, "capture.lock");
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fh = await open(file, "wx");
      await fh.writeFile(`${process.pid}\n`);
      await fh.close();
      let released = false;
      return async () => {
        if (released) return;
        released = true;
        await rm(file, { force: true });
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      const holder = Number((await readFile(file, "utf8").catch(() => "")).trim());
      if (Number.isInteger(holder) && holder > 0 && alive(holder))
        throw new AssayError(
          "runner_capture_failed",
          `another capture of run \`${runId}\` is running (pid ${holder}); give a different --run-id`,
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
