import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { KIT } from "../../audit-kit/manifest.js";
import { type KitVerification, verifyAuditKit } from "../../audit-kit/verify.js";
import { buildAuditKit, writeAuditKit } from "../../audit-kit/write-kit.js";
import { keyId, readPrivateKeyFile, readPublicKeyFile } from "../../evidence/keys.js";
import { AssayError, EXIT } from "../../lib/errors.js";
import { refuseInputsInReplacedFolders, refuseOverlappingOutputs } from "../../lib/output-paths.js";
import { PACKAGE } from "../../lib/package-info.js";
import { loadBundle } from "../../sim/target/load.js";
import { printCheckedJson } from "../checked-json.js";

const { version } = PACKAGE;

export interface BuildCli {
  report: string;
  target: string;
  key: string;
  out: string;
  force?: boolean;
}

export interface VerifyCli {
  key: string;
  json?: boolean;
}

export async function auditKitBuild(opts: BuildCli): Promise<number> {
  // A kit written into the target changes the bundle's digest, so the report no longer matches
  // it. The target may be a folder (nothing may be written inside it) or a tarball. Nor may an
  // input be, or lie in, one of the kit's own entries: --force removes them (target/ and all)
  // before writing the kit.
  const target = [{ path: opts.target, option: "--target" }];
  const inputs = [...target, { path: opts.report, option: "--report" }, { path: opts.key, option: "--key" }];
  refuseOverlappingOutputs([{ path: opts.out, option: "--out" }], inputs, target);
  refuseInputsInReplacedFolders(
    inputs,
    [KIT.manifest, KIT.report, KIT.provenance, KIT.soakResult, KIT.target].map((e) => ({
      path: join(opts.out, e),
      option: "the kit's entry",
    })),
  );
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

export async function auditKitVerify(dir: string, opts: VerifyCli): Promise<number> {
  const publicKey = await readPublicKeyFile(opts.key);
  const result = await verifyAuditKit(dir, publicKey);
  if (opts.json === true)
    printCheckedJson(
      "audit-kit-verify-result",
      { dir, valid: result.verdict === "valid", ...result },
      "the verification result",
    );
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
