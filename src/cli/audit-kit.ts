import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import type { Command } from "commander";
import { buildAuditKit, writeAuditKit } from "../evidence/audit-kit.js";
import { KIT } from "../evidence/audit-kit-manifest.js";
import { type KitVerification, verifyAuditKit } from "../evidence/audit-kit-verify.js";
import { keyId, readPrivateKeyFile, readPublicKeyFile } from "../evidence/keys.js";
import { AssayError, EXIT } from "../lib/errors.js";
import { loadBundle } from "../sim/bundle.js";
import { printJson } from "./io.js";

type Run = (fn: () => Promise<number>) => Promise<void>;

const { version } = createRequire(import.meta.url)("../../package.json") as { version: string };

interface BuildCli {
  report: string;
  target: string;
  key: string;
  out: string;
  force?: boolean;
}

interface VerifyCli {
  key: string;
  json?: boolean;
}

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
    .action((opts: BuildCli) => run(() => buildCmd(opts)));
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
    .action((dir: string, opts: VerifyCli) => run(() => verifyCmd(dir, opts)));
  for (const c of kit.commands) c.exitOverride();
}

async function buildCmd(opts: BuildCli): Promise<number> {
  const privateKey = await readPrivateKeyFile(opts.key);
  let reportBytes: Buffer;
  try {
    reportBytes = await readFile(opts.report);
  } catch (err) {
    throw new AssayError(
      "input_unreadable",
      `cannot read the soak report: ${(err as NodeJS.ErrnoException).code ?? err}`,
      { where: opts.report, cause: err },
    );
  }
  const bundle = await loadBundle(opts.target);
  const kit = await buildAuditKit({ reportBytes, bundle, privateKey, assayVersion: version }).catch((err) => {
    // Locate report problems in the file the user named, not the kit's name for it.
    if (err instanceof AssayError && err.where === KIT.report)
      throw new AssayError(err.code, err.message, { where: opts.report, cause: err });
    throw err;
  });
  await writeAuditKit(opts.out, kit.files, { force: opts.force === true });
  const x = kit.manifest["x-assay"];
  process.stdout.write(
    [
      `wrote ${opts.out}: ${kit.files.size} files`,
      `  report      ${kit.manifest.report.run_id} ${x.soak_report_digest}`,
      `  target      ${kit.manifest.target.bundle_id} ${kit.manifest.target.bundle_digest}`,
      `  packs       ${x.packs_applied.map((p) => `${p.id}@${p.version}`).join(", ")}`,
      `  mappings    ${x.mappings.length}`,
      `  signed by   ${keyId(privateKey)}`,
      "",
    ].join("\n"),
  );
  return EXIT.ok;
}

async function verifyCmd(dir: string, opts: VerifyCli): Promise<number> {
  const publicKey = await readPublicKeyFile(opts.key);
  const result = await verifyAuditKit(dir, publicKey);
  if (opts.json === true) printJson({ dir, valid: result.verdict === "valid", ...result });
  else process.stdout.write(table(dir, result));
  return result.verdict === "valid" ? EXIT.ok : EXIT.finding;
}

function table(dir: string, r: KitVerification): string {
  const width = Math.max(4, ...r.rows.map((row) => row.item.length));
  const lines = [`${"status".padEnd(6)} ${"item".padEnd(width)} ${"kind".padEnd(11)} detail`];
  for (const row of r.rows) {
    const detail = row.code ? `${row.code}: ${row.detail}` : row.detail;
    lines.push(`${row.status.padEnd(6)} ${row.item.padEnd(width)} ${row.kind.padEnd(11)} ${detail}`);
  }
  const failed = r.rows.filter((row) => row.status === "fail").length;
  lines.push(
    r.verdict === "valid"
      ? `VALID ${dir}: ${r.rows.length} rows ok, key ${r.keyid}`
      : `INVALID ${dir}: ${failed} of ${r.rows.length} rows failed`,
  );
  return `${lines.join("\n")}\n`;
}
