import { AssayError, exitCodeFor, formatDiagnostic, printable } from "../lib/errors.js";

/** Print an error the way every command does: one line per problem, no stack unless ASSAY_DEBUG=1. */
export function reportError(err: unknown): number {
  if (err instanceof AssayError) {
    // One line each, whatever a message quotes (JSON.parse quotes the start of the text it
    // refused, a duplicate key is named as written): line breaks as `\n`, other control characters
    // escaped, so a file cannot write to the terminal through an error about it.
    for (const d of err.diagnostics)
      process.stderr.write(`assay: ${printable(formatDiagnostic(d), "\\n")}\n`);
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
