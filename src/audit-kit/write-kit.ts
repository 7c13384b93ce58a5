import type { KeyObject } from "node:crypto";
import { mkdir, readdir, rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { attest } from "../evidence/attest.js";
import type { Signer } from "../evidence/dsse.js";
import { envelopeFileText } from "../evidence/dsse-envelope.js";
import { subjectFromBytes } from "../evidence/statement.js";
import { writeFileAtomic } from "../lib/atomic-write.js";
import { canonicalJson } from "../lib/canonical-json.js";
import { AssayError } from "../lib/errors.js";
import { assertWritable } from "../lib/schema-validator.js";
import { parseSoakReport, type SoakReport, soakReportProblems } from "../sim/soak/report.js";
import type { Bundle } from "../sim/target/load.js";
import {
  appliedPacks,
  buildKitManifest,
  KIT,
  type KitManifest,
  SOAK_RESULT_V1,
  soakResultPredicate,
  soakResultProblem,
} from "./manifest.js";
import { buildSoakProvenance, SLSA_PROVENANCE_V1 } from "./provenance.js";

export interface AuditKitInput {
  /** The soak report file's bytes, copied into the kit unchanged. */
  reportBytes: Uint8Array;
  /** The loaded target bundle the report was measured on. */
  bundle: Bundle;
  privateKey?: KeyObject;
  signer?: Signer;
  /** Version of the Assay building the kit. */
  assayVersion: string;
}

export interface AuditKit {
  /** Every file of the kit by kit path, manifest.json included. */
  files: Map<string, Uint8Array>;
  manifest: KitManifest;
  report: SoakReport;
}

/** Parse and schema-check a soak report's bytes (`input_invalid` when it is not one). */
export function readSoakReportBytes(bytes: Uint8Array, where: string): SoakReport {
  let report: SoakReport;
  try {
    report = parseSoakReport(Buffer.from(bytes).toString("utf8"), where);
  } catch (err) {
    if (err instanceof AssayError) throw err;
    throw new AssayError("input_invalid", `the soak report is not JSON: ${(err as Error).message}`, {
      where,
    });
  }
  const problems = soakReportProblems(report);
  if (problems.length > 0)
    throw new AssayError("input_invalid", `not a soak-report-v1: ${problems[0]}`, { where });
  return report;
}

/**
 * Check that the report was measured on this bundle: its target.bundle_digest is the bundle's
 * digest and, when it has one, its policy_digest the bundle's compiled policy digest.
 */
export function checkReportMatchesBundle(report: SoakReport, bundle: Bundle, where: string): void {
  if (report.target.bundle_digest !== bundle.digest)
    throw new AssayError(
      "input_invalid",
      `the report was not measured on this bundle: its target.bundle_digest is ${report.target.bundle_digest}, the bundle's digest is ${bundle.digest}`,
      { where },
    );
  const policy = report.target.policy_digest;
  if (policy !== undefined && policy !== bundle.policy.digest)
    throw new AssayError(
      "input_invalid",
      `the report's target.policy_digest ${policy} is not the bundle's policy digest ${bundle.policy.digest}`,
      { where },
    );
}

/**
 * Build an audit kit in memory: the report, the bundle's files under target/, the SLSA
 * provenance and the soak-result statement (both DSSE-signed, subject: the report), and the
 * manifest over all of them. Deterministic for a deterministic signer (Ed25519).
 */
export async function buildAuditKit(input: AuditKitInput): Promise<AuditKit> {
  const { bundle, reportBytes } = input;
  const report = readSoakReportBytes(reportBytes, KIT.report);
  checkReportMatchesBundle(report, bundle, KIT.report);
  const subject = subjectFromBytes(KIT.report, reportBytes);
  const keys = input.signer
    ? { signer: input.signer }
    : input.privateKey
      ? { privateKey: input.privateKey }
      : {};

  const provenance = buildSoakProvenance({
    report,
    bundleDigest: bundle.digest,
    packs: appliedPacks(bundle),
    builderVersion: input.assayVersion,
  });
  const provenanceEnv = await attest({
    subjects: [subject],
    predicateType: SLSA_PROVENANCE_V1,
    predicate: provenance,
    ...keys,
  });
  const result = soakResultPredicate(report);
  const problem = soakResultProblem(result);
  if (problem !== undefined)
    throw new AssayError("input_invalid", `the soak-result predicate is not valid: ${problem}`);
  const resultEnv = await attest({
    subjects: [subject],
    predicateType: SOAK_RESULT_V1,
    predicate: result,
    ...keys,
  });

  const files = new Map<string, Uint8Array>();
  files.set(KIT.report, reportBytes);
  files.set(KIT.provenance, Buffer.from(envelopeFileText(provenanceEnv), "utf8"));
  files.set(KIT.soakResult, Buffer.from(envelopeFileText(resultEnv), "utf8"));
  for (const [path, data] of bundle.files) files.set(`${KIT.target}/${path}`, data);
  const manifest = buildKitManifest({ files, bundle, report, producerVersion: input.assayVersion });
  const manifestText = canonicalJson(manifest);
  assertWritable("audit-kit-manifest", JSON.parse(manifestText), "the kit's manifest.json");
  files.set(KIT.manifest, Buffer.from(manifestText, "utf8"));
  return { files, manifest, report };
}

/**
 * Write a kit into `dir` (created when missing). A directory with anything in it is refused
 * unless `force`; with `force` the kit's own entries (manifest.json, the report, the envelopes,
 * target/) are replaced and anything else is left where it is.
 */
export async function writeAuditKit(
  dir: string,
  files: ReadonlyMap<string, Uint8Array>,
  opts: { force?: boolean } = {},
): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
  } catch (err) {
    throw new AssayError("output_unwritable", `cannot create the kit directory: ${code(err)}`, {
      where: dir,
      cause: err,
    });
  }
  let existing: string[];
  try {
    existing = await readdir(dir);
  } catch (err) {
    throw new AssayError("output_unwritable", `cannot read the kit directory: ${code(err)}`, {
      where: dir,
      cause: err,
    });
  }
  if (existing.length > 0 && opts.force !== true)
    throw new AssayError("output_unwritable", "refusing to write into a non-empty directory (use --force)", {
      where: dir,
    });
  if (opts.force === true) {
    for (const name of [KIT.manifest, KIT.report, KIT.provenance, KIT.soakResult, KIT.target])
      await rm(join(dir, name), { recursive: true, force: true });
  }
  // manifest.json last: a kit interrupted half-way has no manifest, and does not verify.
  const order = [...files.keys()].filter((p) => p !== KIT.manifest).sort();
  order.push(KIT.manifest);
  for (const path of order) {
    const data = files.get(path) as Uint8Array;
    const full = join(dir, ...path.split("/"));
    await mkdir(dirname(full), { recursive: true });
    await writeFileAtomic(full, data);
  }
}

function code(err: unknown): string {
  return (err as NodeJS.ErrnoException).code ?? String(err);
}
