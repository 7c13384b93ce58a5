import { readFile } from "node:fs/promises";
import { AssayError, type AssayErrorCode } from "./errors.js";

/** Read a UTF-8 file, or fail with `code` and a one-line `cannot read <what>: ENOENT` naming the path. */
export async function readTextFile(path: string, code: AssayErrorCode, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (err) {
    throw new AssayError(code, `cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? err}`, {
      where: path,
      cause: err,
    });
  }
}
