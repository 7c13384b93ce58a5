import type { Command } from "commander";
import type { BundleCli } from "./actions/evidence-bundle.js";
import type { CanonicalizeCli } from "./actions/evidence-canonicalize.js";

/** `assay evidence canonicalize | bundle | verify`. */
export function registerEvidenceJson(
  evidence: Command,
  run: (fn: () => Promise<number>) => Promise<void>,
): void {
  evidence
    .command("canonicalize")
    .description(
      "print the RFC 8785 canonical form of a JSON document (by default refusing what is not I-JSON, such as integers beyond 2^53)",
    )
    .argument("[file]", "JSON file, or `-` for standard input", "-")
    .option("--digest", "print `sha256:<hex>` of the canonical form instead")
    .option(
      "--rfc8785-numbers",
      "canonicalize every number as the IEEE 754 double it reads as (RFC 8785 §3.2.2.3), as other JCS implementations do, instead of refusing one that loses precision",
    )
    .action((file: string, opts: CanonicalizeCli) =>
      run(async () => (await import("./actions/evidence-canonicalize.js")).canonicalize(file, opts)),
    );

  evidence
    .command("bundle")
    .description(
      "package CloudEvents 1.0 NDJSON (a gate decision log, soak trials, any type) as a deterministic evidence bundle (.tar.gz)",
    )
    .requiredOption(
      "--events <file>",
      "CloudEvents 1.0, one per line (gate records are also checked against schemas/decision-event.schema.json)",
    )
    .requiredOption("--out <file>", "bundle to write (.tar.gz)")
    .option("--run-id <id>", "run id (default: `run-` + the first 16 hex digits of the run root)")
    .option("--json", "print the summary as JSON")
    .action((opts: BundleCli) =>
      run(async () => (await import("./actions/evidence-bundle.js")).bundle(opts)),
    );

  evidence
    .command("verify")
    .description("verify an evidence bundle offline: exit 0 valid, 1 invalid, 2 unreadable")
    .argument("<bundle>", "evidence bundle (.tar.gz)")
    .option("--json", "print the result as JSON")
    .action((bundle: string, opts: { json?: boolean }) =>
      run(async () => (await import("./actions/evidence-verify.js")).verify(bundle, opts)),
    );
}
