import { createHash } from "node:crypto";
import type { Mapping, Severity } from "../policy/pack-types.js";
import type { SoakReport } from "../sim/soak/report.js";

/** What SARIF reads of a compiled policy rule (a `RuleBase` fits). */
export interface SarifRuleInfo {
  readonly id: string;
  readonly dimension: string;
  readonly severity: Severity;
  readonly message: string | undefined;
  readonly mappings: readonly Mapping[];
}

export interface SarifOptions {
  /** Where results point: the bundle's `assay-target.yaml`, relative to `uriBaseId`. */
  targetUri: string;
  /** Default `%SRCROOT%`, the checkout root GitHub code scanning resolves against. */
  uriBaseId?: string;
}

type Level = "error" | "warning" | "note";

const LEVELS: Record<Severity, Level> = {
  critical: "error",
  high: "error",
  medium: "warning",
  low: "note",
  info: "note",
};

// GitHub code scanning ranks security alerts by this CVSS-like score (a string).
const SECURITY_SEVERITY: Record<Severity, string> = {
  critical: "9.5",
  high: "8.0",
  medium: "5.5",
  low: "2.0",
  info: "0.0",
};

export const SARIF_SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json";

/** The bundle id without its `@version`: categories and fingerprints survive a version bump. */
export function bundleName(report: SoakReport): string {
  const id = report.target.bundle_id;
  const at = id.lastIndexOf("@");
  return at > 0 ? id.slice(0, at) : id;
}

/**
 * A soak report as a SARIF 2.1.0 log: one run, a rule per policy rule, a result per entry of
 * `report.violations`. Pure and deterministic: the same report and rules give the same text.
 */
export function soakSarif(report: SoakReport, rules: readonly SarifRuleInfo[], opts: SarifOptions): string {
  const name = bundleName(report);
  const byId = new Map<string, SarifRuleInfo>();
  for (const r of rules) if (!byId.has(r.id)) byId.set(r.id, r);
  const descriptors: object[] = [...byId.values()].map(ruleDescriptor);
  const ruleIndex = new Map([...byId.keys()].map((id, i) => [id, i]));
  // A violation without a rule of its own (pack defaults, `call_invalid`, …) still needs a descriptor.
  for (const v of report.violations ?? []) {
    if (ruleIndex.has(v.rule_id)) continue;
    ruleIndex.set(v.rule_id, descriptors.length);
    descriptors.push({
      id: v.rule_id,
      shortDescription: { text: v.rule_id },
      fullDescription: { text: `assay reason \`${v.rule_id}\` (no policy rule of its own)` },
      help: {
        text: `dimension: ${v.dimension ?? "safety"}; not a policy rule: a pack default or a reason code`,
      },
      defaultConfiguration: { level: "error" },
      properties: { tags: [v.dimension ?? "safety"] },
    });
  }
  const location = {
    physicalLocation: {
      artifactLocation: { uri: opts.targetUri, uriBaseId: opts.uriBaseId ?? "%SRCROOT%" },
      region: { startLine: 1 },
    },
    logicalLocations: [{ name, fullyQualifiedName: report.target.bundle_id, kind: "module" }],
  };
  const results = (report.violations ?? []).map((v) => {
    const rule = byId.get(v.rule_id);
    const examples = v.examples ?? [];
    const first = examples[0];
    return {
      ruleId: v.rule_id,
      ruleIndex: ruleIndex.get(v.rule_id) as number,
      level: rule ? LEVELS[rule.severity] : "error",
      message: {
        text: `\`${v.rule_id}\`: ${v.count} violation(s) failed trials of ${report.target.bundle_id}${first === undefined ? "" : `; first: ${first}`}`,
      },
      locations: [location],
      partialFingerprints: { "assaySoakViolation/v1": fingerprint(name, v.rule_id) },
      properties: {
        count: v.count,
        dimension: v.dimension ?? rule?.dimension ?? "safety",
        examples,
      },
    };
  });
  const s = report.summary;
  const log = {
    $schema: SARIF_SCHEMA_URI,
    version: "2.1.0",
    runs: [
      {
        tool: { driver: { name: "assay", version: report.assay_version, rules: descriptors } },
        automationDetails: { id: `assay/soak/${name}/` },
        results,
        properties: {
          bundle_id: report.target.bundle_id,
          bundle_digest: report.target.bundle_digest,
          policy_digest: report.target.policy_digest ?? null,
          run_id: report.run.run_id,
          seed: report.run.seed.toString(),
          iterations: report.run.iterations,
          pass_all: s.pass_all,
          pass_rate: s.pass_rate,
          ci_95: s.ci_95,
        },
      },
    ],
  };
  return `${JSON.stringify(log, null, 2)}\n`;
}

function ruleDescriptor(r: SarifRuleInfo) {
  const refs = r.mappings.map((m) => `${m.framework}:${m.ref}`);
  const text = r.message ?? r.id;
  return {
    id: r.id,
    shortDescription: { text },
    fullDescription: { text },
    help: {
      text: [
        text,
        `dimension: ${r.dimension}; severity: ${r.severity}`,
        refs.length > 0 ? `mappings: ${refs.join(", ")}` : "mappings: none",
      ].join("\n"),
    },
    defaultConfiguration: { level: LEVELS[r.severity] },
    properties: {
      tags: [r.dimension, ...refs],
      severity: r.severity,
      ...(r.dimension === "security" ? { "security-severity": SECURITY_SEVERITY[r.severity] } : {}),
    },
  };
}

/** Stable across runs and versions of one bundle: its name and the rule id, nothing else. */
function fingerprint(bundle: string, ruleId: string): string {
  return createHash("sha256").update(`${bundle}\n${ruleId}`).digest("hex");
}
