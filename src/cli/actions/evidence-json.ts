import { readFile } from "node:fs/promises";
import { writeBundle } from "../../evidence/bundle-writer.js";
import { canonicalizeText } from "../../evidence/canonicalize-text.js";
import { verifyBundle } from "../../evidence/verify-bundle.js";
import { AssayError, EXIT } from "../../lib/errors.js";
import { printJson } from "../io.js";

export interface BundleCli {
  events: string;
  out: string;
  runId?: string;
  json?: boolean;
}

/** `assay evidence canonicalize`: the RFC 8785 form (or its digest) of one JSON document. */
export async function canonicalize(file: string, opts: { digest?: boolean }): Promise<number> {
  const where = file === "-" ? "<stdin>" : file;
  const bytes = await readInput(file, where);
  const { canonical, digest } = canonicalizeText(bytes, where);
  if (opts.digest) process.stdout.write(`${digest}\n`);
  // Exactly the canonical bytes, so `| sha256sum` agrees with --digest; a newline only for a terminal.
  else process.stdout.write(process.stdout.isTTY ? `${canonical}\n` : canonical);
  return EXIT.ok;
}

/** `assay evidence bundle`: a decision log as a deterministic evidence bundle. */
export async function bundle(opts: BundleCli): Promise<number> {
  const summary = await writeBundle({
    events: opts.events,
    out: opts.out,
    ...(opts.runId === undefined ? {} : { runId: opts.runId }),
  });
  if (opts.json) printJson(summary);
  else
    process.stdout.write(
      `wrote ${opts.out}: ${summary.event_count} events, run ${summary.run_id}, bundle ${summary.bundle_id}\n`,
    );
  return EXIT.ok;
}

/** `assay evidence verify`: 0 valid, 1 invalid (a finding), 2 unreadable. */
export async function verify(bundle: string, opts: { json?: boolean }): Promise<number> {
  const result = await verifyBundle(bundle);
  if (opts.json) {
    if (result.valid) printJson(result);
    else printJson({ valid: false, ...result.failure });
  } else if (result.valid) {
    process.stdout.write(
      `valid: ${bundle}: ${result.event_count} events, run ${result.run_id}, bundle ${result.bundle_id}\n`,
    );
  } else {
    const f = result.failure;
    process.stdout.write(
      `invalid: ${bundle}: ${f.class}/${f.code}: ${f.message}${f.where ? ` (${f.where})` : ""}\n`,
    );
  }
  return result.valid ? EXIT.ok : EXIT.finding;
}

async function readInput(file: string, where: string): Promise<Buffer> {
  try {
    if (file !== "-") return await readFile(file);
    const chunks: Buffer[] = [];
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  } catch (err) {
    throw new AssayError(
      "input_unreadable",
      `cannot read JSON: ${(err as NodeJS.ErrnoException).code ?? err}`,
      {
        where,
      },
    );
  }
}
