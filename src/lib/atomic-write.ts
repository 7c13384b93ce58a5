import { randomBytes } from "node:crypto";
import { link, open, rename, rm } from "node:fs/promises";
import { AssayError } from "./errors.js";

export interface AtomicWriteOptions {
  /** File mode, set when the temporary file is created (so it is never looser, even briefly). */
  mode?: number;
  /** Replace an existing file (default true); false fails with `output_unwritable` when it exists. */
  overwrite?: boolean;
  /**
   * fsync before the rename (default true), so the new content survives a power cut. A cache,
   * which checks what it reads back, can skip it.
   */
  sync?: boolean;
}

/**
 * Write a file so readers see either the old content or the whole new one: a temporary file in
 * the same directory, created exclusively with its final mode, then renamed (or hard-linked, which
 * fails atomically when the target exists, when overwriting is not allowed).
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  opts: AtomicWriteOptions = {},
): Promise<void> {
  const mode = opts.mode ?? 0o644;
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    const fh = await open(tmp, "wx", mode);
    try {
      // umask may have cleared bits; chmod makes the mode exactly what was asked (never looser).
      await fh.chmod(mode);
      await fh.writeFile(data);
      if (opts.sync !== false) await fh.sync();
    } finally {
      await fh.close();
    }
    if (opts.overwrite === false) {
      await link(tmp, path);
      await rm(tmp, { force: true });
    } else {
      await rename(tmp, path);
    }
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => {});
    const code = (err as NodeJS.ErrnoException).code;
    const message =
      code === "EEXIST"
        ? "refusing to overwrite an existing file (use --force)"
        : `cannot write: ${code ?? err}`;
    throw new AssayError("output_unwritable", message, { where: path, cause: err });
  }
}
