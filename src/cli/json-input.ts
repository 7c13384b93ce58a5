import { readFile } from "node:fs/promises";
import { AssayError } from "../lib/errors.js";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "../lib/json-depth.js";
import { strictUtf8Text } from "../lib/read-text.js";

/**
 * Read a JSON document from a file, or from standard input when the path is `-`. `strict`: as
 * I-JSON (src/evidence/strict-json.ts, loaded only then), for what is canonicalized and signed: a
 * duplicate key, an escaped lone surrogate or an integer a double cannot hold, which JSON.parse
 * settles silently one way, is refused at its line and column.
 */
export async function readJsonInput(
  path: string,
  what: string,
  opts: { strict?: boolean } = {},
): Promise<unknown> {
  const where = path === "-" ? "<stdin>" : path;
  const text = await readInputText(path, what);
  if (opts.strict) return parseStrict(text, where, what);
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
async function readInputText(path: string, what: string): Promise<string> {
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

async function parseStrict(text: string, where: string, what: string): Promise<unknown> {
  // Counted first, without recursion: the parser recurses once per level.
  if (nestsDeeperThan(text, MAX_JSON_DEPTH))
    throw new AssayError("input_invalid", `${what} nests deeper than ${MAX_JSON_DEPTH} levels`, { where });
  const { parseStrictJson, StrictJsonError } = await import("../evidence/strict-json.js");
  try {
    return parseStrictJson(text, { maxDepth: MAX_JSON_DEPTH });
  } catch (err) {
    if (err instanceof StrictJsonError)
      throw new AssayError(err.code, `${what} is not I-JSON: ${err.message}`, {
        where: `${where}:${err.line}:${err.column}`,
      });
    throw err;
  }
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
