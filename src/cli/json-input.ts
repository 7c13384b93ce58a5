import { readFile } from "node:fs/promises";
import { AssayError } from "../lib/errors.js";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "../lib/json-depth.js";
import { strictUtf8Text } from "../lib/read-text.js";

/** Read a JSON document from a file, or from standard input when the path is `-`. */
export async function readJsonInput(path: string, what: string): Promise<unknown> {
  const where = path === "-" ? "<stdin>" : path;
  const text = await readInputText(path, what);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new AssayError("input_invalid", `${what} is not valid JSON: ${(err as Error).message}`, { where });
  }
  if (nestsDeeperThan(text, MAX_JSON_DEPTH))
    throw new AssayError("input_invalid", `${what} nests deeper than ${MAX_JSON_DEPTH} levels`, { where });
  return value;
}

/** A file's text, or standard input's when the path is `-`: UTF-8 or refused (line and column of the first bad byte). */
export async function readInputText(path: string, what: string): Promise<string> {
  const where = path === "-" ? "<stdin>" : path;
  let bytes: Buffer;
  try {
    bytes = path === "-" ? await readStdin() : await readFile(path);
  } catch (err) {
    throw new AssayError(
      "input_unreadable",
      `cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      {
        where,
      },
    );
  }
  return strictUtf8Text(bytes, where, "input_invalid", what);
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
