import { stat } from "node:fs/promises";
import { AssayError } from "../lib/errors.js";
import { readTextFile } from "../lib/read-text.js";

/** Packs larger than this are refused before they are read. */
export const MAX_PACK_BYTES = 10 * 1024 * 1024;

/** A pack file's text, read once; too large or unreadable fails with the error loadPack reports. */
export async function readPackText(path: string): Promise<string> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch (err) {
    throw new AssayError(
      "pack_unreadable",
      `cannot read pack: ${(err as NodeJS.ErrnoException).code ?? err}`,
      {
        where: path,
        cause: err,
      },
    );
  }
  if (size > MAX_PACK_BYTES) {
    throw new AssayError("pack_too_large", `pack is ${size} bytes, over the ${MAX_PACK_BYTES} byte limit`, {
      where: path,
    });
  }
  return readTextFile(path, "pack_unreadable", "pack", "pack_syntax");
}
