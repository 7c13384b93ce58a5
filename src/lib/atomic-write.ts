import { randomBytes } from "node:crypto";
import { link, open, rename, rm, stat, writeFile } from "node:fs/promises";
import { AssayError } from "./errors.js";

export interface AtomicWriteOptions {
  /**
   * File mode, exactly (a private key's 0600), set when the temporary file is created so it is
   * never looser, even briefly. Without it the file is created 0666 less the umask, as other
   * tools create theirs: a user whose umask is 077 gets 0600 reports.
   */
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
  if (opts.overwrite !== false && (await isWrittenInPlace(path))) {
    try {
      await writeFile(path, data);
      return;
    } catch (err) {
      throw unwritable(path, err);
    }
  }
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`;
  try {
    const fh = await open(tmp, "wx", opts.mode ?? 0o666);
    try {
      // umask may have cleared bits of an exact mode; chmod makes it what was asked.
      if (opts.mode !== undefined) await fh.chmod(opts.mode);
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
    throw unwritable(path, err);
  }
}

/**
 * Whether `path` is a device, FIFO or socket (`--out /dev/stdout`, `/dev/null`): written to, not
 * replaced, since a rename would leave a regular file where the device was (for everyone, as root).
 */
export async function isWrittenInPlace(path: string): Promise<boolean> {
  const target = await stat(path).catch(() => undefined);
  return target !== undefined && !target.isFile() && !target.isDirectory();
}

function unwritable(path: string, err: unknown): AssayError {
  const code = (err as NodeJS.ErrnoException).code;
  const message =
    code === "EEXIST"
      ? "refusing to overwrite an existing file (use --force)"
      : `cannot write: ${code ?? err}`;
  return new AssayError("output_unwritable", message, { where: path, cause: err });
}
