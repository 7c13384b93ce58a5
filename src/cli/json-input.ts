import { readFile } from "node:fs/promises";
import { AssayError } from "../lib/errors.js";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "../lib/json-depth.js";

/** Read a JSON document from a file, or from standard input when the path is `-`. */
export async function readJsonInput(path: string, what: string): Promise<unknown> {
  const where = path === "-" ? "<stdin>" : path;
  let text: string;
  try {
    text = path === "-" ? await readStdin() : await readFile(path, "utf8");
  } catch (err) {
    throw new AssayError(
      "input_unreadable",
      `cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      {
        where,
      },
    );
  }
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

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
