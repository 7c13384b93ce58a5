import { readFile } from "node:fs/promises";
import type { Command } from "commander";
import { writeBundle } from "../evidence/bundle-writer.js";
import { canonicalizeText } from "../evidence/canonicalize-text.js";
import { verifyBundle } from "../evidence/verify-bundle.js";
import { AssayError, EXIT } from "../lib/errors.js";
import { printJson } from "./io.js";

/** `assay evidence canonicalize | bundle | verify`. */
export function registerEvidenceJson(
  evidence: Command,
  run: (fn: () => Promise<number>) => Promise<void>,
): void {
  evidence
    .command("canonicalize")
    .description("print the RFC 8785 canonical form of a JSON document (refusing what is not I-JSON)")
    .argument("[file]", "JSON file, or `-` for standard input", "-")
    .option("--digest", "print `sha256:<hex>` of the canonical form instead")
    .action((file: string, opts: { digest?: boolean }) =>
      run(async () => {
        const where = file === "-" ? "<stdin>" : file;
        const bytes = await readInput(file, where);
        const { canonical, digest } = canonicalizeText(bytes, where);
        if (opts.digest) process.stdout.write(`${digest}\n`);
        // Exactly the canonical bytes, so `| sha256sum` agrees with --digest; a newline only for a terminal.
        else process.stdout.write(process.stdout.isTTY ? `${canonical}\n` : canonical);
        return EXIT.ok;
      }),
    );

  evidence
    .command("bundle")
    .description("package a gate decision log as a deterministic evidence bundle (.tar.gz)")
    .requiredOption("--events <file>", "decision log (NDJSON, schemas/decision-event.schema.json)")
    .requiredOption("--out <file>", "bundle to write (.tar.gz)")
    .option("--run-id <id>", "run id (default: `run-` + the first 16 hex digits of the run root)")
    .option("--json", "print the summary as JSON")
    .action((opts: { events: string; out: string; runId?: string; json?: boolean }) =>
      run(async () => {
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
      }),
    );

  evidence
    .command("verify")
    .description("verify an evidence bundle offline: exit 0 valid, 1 invalid, 2 unreadable")
    .argument("<bundle>", "evidence bundle (.tar.gz)")
    .option("--json", "print the result as JSON")
    .action((bundle: string, opts: { json?: boolean }) =>
      run(async () => {
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
      }),
    );
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
