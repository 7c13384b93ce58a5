import { readFile } from "node:fs/promises";
import { AssayError, exitCodeFor, formatDiagnostic } from "../lib/errors.js";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "../lib/json-depth.js";

/** Read a JSON document from a file, or from standard input when the path is `-`. */
export async function readJsonInput(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = path === "-" ? await readStdin() : await readFile(path, "utf8");
  } catch (err) {
    throw new AssayError(
      "input_unreadable",
      `cannot read ${what}: ${(err as NodeJS.ErrnoException).code ?? err}`,
      {
        where: path === "-" ? "<stdin>" : path,
      },
    );
  }
  const where = path === "-" ? "<stdin>" : path;
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

/** Print an error the way every command does: one line per problem, no stack unless ASSAY_DEBUG=1. */
export function reportError(err: unknown): number {
  if (err instanceof AssayError) {
    // One line each, whatever a message quotes (JSON.parse quotes the start of the text it refused).
    for (const d of err.diagnostics)
      process.stderr.write(`assay: ${formatDiagnostic(d).replace(/\r?\n|\r/g, "\\n")}\n`);
    if (process.env.ASSAY_DEBUG === "1" && err.stack) process.stderr.write(`${err.stack}\n`);
    return exitCodeFor(err.code);
  }
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`assay: internal error: ${message.split("\n")[0]}\n`);
  if (process.env.ASSAY_DEBUG === "1" && err instanceof Error && err.stack)
    process.stderr.write(`${err.stack}\n`);
  else process.stderr.write("assay: set ASSAY_DEBUG=1 for details\n");
  return 2;
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
