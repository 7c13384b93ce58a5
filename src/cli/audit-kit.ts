import type { Command } from "commander";
import type { BuildCli, VerifyCli } from "./actions/audit-kit.js";

type Run = (fn: () => Promise<number>) => Promise<void>;

/** `assay audit-kit build | verify`: a signed, self-contained directory of soak evidence. */
export function registerAuditKit(program: Command, run: Run): void {
  const kit = program
    .command("audit-kit")
    .description("build and verify audit kits: a soak report, its bundle and packs, SLSA provenance, signed")
    .exitOverride();
  kit
    .command("build")
    .description("write an audit kit for a soak report and the target bundle it was measured on")
    .requiredOption("--report <soak.json>", "the soak report (soak-report-v1)")
    .requiredOption(
      "--target <bundle>",
      "the target bundle (directory or .tar.gz) the report was measured on",
    )
    .requiredOption("--key <pem>", "private key (from `assay evidence keygen`)")
    .requiredOption("--out <dir>", "the kit directory (created when missing; must be empty)")
    .option("--force", "write into a non-empty directory, replacing the kit's own files")
    .addHelpText(
      "after",
      "\nSee docs/audit-kit.md. Exit codes: 0 written; 2 unreadable or invalid input, a report not\nmeasured on this bundle, a non-empty --out without --force, unwritable output.",
    )
    .exitOverride()
    .action((opts: BuildCli) =>
      run(async () => (await import("./actions/audit-kit.js")).auditKitBuild(opts)),
    );
  kit
    .command("verify")
    .description("recompute every digest and signature of an audit kit; one row per item")
    .argument("<dir>", "the kit directory")
    .requiredOption("--key <pem>", "public key (SPKI PEM) of the signer")
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      "\nExit codes: 0 every row ok; 1 a mismatch (tampered or missing file, wrong key, digest\nmismatch); 2 unreadable (no such directory, no manifest.json, unreadable key).",
    )
    .exitOverride()
    .action((dir: string, opts: VerifyCli) =>
      run(async () => (await import("./actions/audit-kit.js")).auditKitVerify(dir, opts)),
    );
  for (const c of kit.commands) c.exitOverride();
}
