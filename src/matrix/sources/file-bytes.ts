import { createHash } from "node:crypto";
import { open } from "node:fs/promises";
import { AssayError } from "../../lib/errors.js";
import { artifactInvalid } from "./fault.js";

/**
 * The most bytes an artifact file may hold (a capture directory: its files together). Every
 * artifact is held in memory to be parsed and hashed; the largest CI produces (a soak report
 * keeping a few thousand trials, a JUnit file) are a few MiB.
 */
export const MAX_ARTIFACT_BYTES = 64 * 1024 * 1024;

/** An artifact refused for its size. */
export function tooLarge(path: string, bytes: number): AssayError {
  return artifactInvalid(
    `${bytes} bytes is larger than ${MAX_ARTIFACT_BYTES}, the most an artifact may hold`,
    path,
  );
}

const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** An artifact's bytes as text: UTF-8 (a byte order mark is dropped), else a fault naming `path`. */
export function utf8Text(bytes: Uint8Array, path: string): string {
  try {
    return UTF8.decode(bytes);
  } catch (err) {
    throw artifactInvalid("not UTF-8 text", path, err);
  }
}

/** `sha256:<hex>` of `bytes`. */
export function sha256Of(bytes: Uint8Array | string): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** A regular file's bytes, refused beyond MAX_ARTIFACT_BYTES; errors name `path` (the display path). */
export async function readArtifactBytes(absPath: string, path: string): Promise<Buffer> {
  let fh: Awaited<ReturnType<typeof open>>;
  try {
    fh = await open(absPath, "r");
  } catch (err) {
    throw artifactInvalid(`cannot read: ${(err as NodeJS.ErrnoException).code ?? err}`, path, err);
  }
  try {
    // Sized from the open file, not the path: what is checked is what is read.
    const st = await fh.stat();
    if (!st.isFile()) throw artifactInvalid("not a regular file", path);
    if (st.size > MAX_ARTIFACT_BYTES) throw tooLarge(path, st.size);
    const bytes = await fh.readFile();
    if (bytes.length > MAX_ARTIFACT_BYTES) throw tooLarge(path, bytes.length);
    return bytes;
  } catch (err) {
    if (err instanceof AssayError) throw err;
    throw artifactInvalid(`cannot read: ${(err as NodeJS.ErrnoException).code ?? err}`, path, err);
  } finally {
    await fh.close();
  }
}
