import { sha256Digest, sha256Hex } from "../lib/canonical-json.js";
import { AssayError } from "../lib/errors.js";
import { schemaProblem } from "../lib/schema-validator.js";
import type { SoakReport } from "../sim/soak/report.js";
import type { Bundle } from "../sim/target/load.js";
import { type AppliedPack, SLSA_PROVENANCE_V1 } from "./provenance.js";

/** predicateType of the soak-result statement (schemas/soak-result-predicate.schema.json). */
export const SOAK_RESULT_V1 = "https://assay.dev/soak-result/v1";

/** Fixed names in an audit kit directory. */
export const KIT = {
  manifest: "manifest.json",
  report: "soak-report.json",
  provenance: "provenance.dsse.json",
  soakResult: "soak-result.dsse.json",
  /** The target bundle's files are copied under this directory, paths unchanged. */
  target: "target",
} as const;

export type KitItemKind = "report" | "attestation" | "pack" | "bundle_file";

export interface KitItem {
  path: string;
  kind: KitItemKind;
  sha256: string;
  bytes: number;
}

export interface KitManifest {
  schema_version: 1;
  kind: "assay-audit-kit";
  producer: { name: "assay"; version: string };
  report: { path: typeof KIT.report; run_id: string };
  target: { path: typeof KIT.target; bundle_id: string; bundle_digest: string; policy_digest?: string };
  attestations: { path: string; predicateType: string }[];
  items: KitItem[];
  "x-assay": {
    soak_report_digest: string;
    packs_applied: { id: string; version: string; digest: string; path: string }[];
    mappings: { rule_id: string; framework: string; ref: string }[];
  };
}

/** The bundle's packs with the bytes of their files, in the target's order. */
export function appliedPacks(bundle: Bundle): AppliedPack[] {
  return bundle.packs.map((pack, i) => {
    const path = bundle.target.packs[i];
    const bytes = path === undefined ? undefined : bundle.files.get(path);
    if (path === undefined || bytes === undefined)
      throw new AssayError("internal", `pack \`${pack.doc.id}\` has no file in the bundle`);
    return { id: pack.doc.id, version: pack.doc.version, path, bytes };
  });
}

/** `{rule_id, framework, ref}` of every rule mapping of every pack, sorted and without repeats. */
export function packMappings(bundle: Bundle): KitManifest["x-assay"]["mappings"] {
  const seen = new Map<string, { rule_id: string; framework: string; ref: string }>();
  for (const pack of bundle.packs)
    for (const rule of pack.doc.rules)
      for (const m of rule.mappings ?? []) {
        const row = { rule_id: rule.id, framework: m.framework, ref: m.ref };
        seen.set(JSON.stringify([row.rule_id, row.framework, row.ref]), row);
      }
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, row]) => row);
}

/** The soak-result predicate: the report's summary and what decided its verdict. */
export function soakResultPredicate(report: SoakReport): Record<string, unknown> {
  return {
    report_schema: "soak-report-v1",
    run_id: report.run.run_id,
    target: report.target,
    decision_policy: report.decision_policy,
    summary: report.summary,
    verdict: {
      pass_all: report.summary.pass_all,
      fail_mode: report.decision_policy.fail_mode,
      violations: (report.violations ?? []).map((v) => ({ rule_id: v.rule_id, count: v.count })),
      canaries: (report.canaries ?? []).map((c) => ({ name: c.name, status: c.status })),
    },
  };
}

/** The first problem of a soak-result predicate against its schema, or none. */
export function soakResultProblem(value: unknown): string | undefined {
  return schemaProblem("soak-result-predicate", value);
}

/** The first problem of a manifest against schemas/audit-kit-manifest.schema.json, or none. */
export function manifestProblem(value: unknown): string | undefined {
  return schemaProblem("audit-kit-manifest", value);
}

/** The kind of a kit file, by its path. */
export function kindOf(path: string, packPaths: ReadonlySet<string>): KitItemKind {
  if (path === KIT.report) return "report";
  if (path === KIT.provenance || path === KIT.soakResult) return "attestation";
  return packPaths.has(path) ? "pack" : "bundle_file";
}

/**
 * The manifest of a kit: a pure function of the kit's files (every file but manifest.json, by
 * kit path), the bundle they hold and the report. `assay audit-kit verify` recomputes it.
 */
export function buildKitManifest(args: {
  files: ReadonlyMap<string, Uint8Array>;
  bundle: Bundle;
  report: SoakReport;
  producerVersion: string;
}): KitManifest {
  const { bundle, report, files } = args;
  const packs = appliedPacks(bundle);
  const packPaths = new Set(packs.map((p) => `${KIT.target}/${p.path}`));
  const items = [...files]
    .filter(([path]) => path !== KIT.manifest)
    .map(([path, data]) => ({
      path,
      kind: kindOf(path, packPaths),
      sha256: sha256Hex(data),
      bytes: data.length,
    }))
    .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const reportBytes = files.get(KIT.report);
  if (reportBytes === undefined) throw new AssayError("internal", "the kit has no report");
  return {
    schema_version: 1,
    kind: "assay-audit-kit",
    producer: { name: "assay", version: args.producerVersion },
    report: { path: KIT.report, run_id: report.run.run_id },
    target: {
      path: KIT.target,
      bundle_id: report.target.bundle_id,
      bundle_digest: bundle.digest,
      ...(report.target.policy_digest ? { policy_digest: report.target.policy_digest } : {}),
    },
    attestations: [
      { path: KIT.provenance, predicateType: SLSA_PROVENANCE_V1 },
      { path: KIT.soakResult, predicateType: SOAK_RESULT_V1 },
    ],
    items,
    "x-assay": {
      soak_report_digest: sha256Digest(reportBytes),
      packs_applied: packs.map((p) => ({
        id: p.id,
        version: p.version,
        digest: sha256Digest(p.bytes),
        path: `${KIT.target}/${p.path}`,
      })),
      mappings: packMappings(bundle),
    },
  };
}
