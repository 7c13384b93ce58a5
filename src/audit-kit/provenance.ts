import { sha256Hex } from "../lib/canonical-json.js";
import { AssayError } from "../lib/errors.js";
import { schemaValidator } from "../lib/schema-validator.js";
import type { SoakReport } from "../sim/soak/report.js";

/** predicateType of SLSA provenance v1 (https://slsa.dev/spec/v1.0/provenance). */
export const SLSA_PROVENANCE_V1 = "https://slsa.dev/provenance/v1";
/** Our buildType for a soak run; its parameters are documented in docs/audit-kit.md. */
export const SOAK_BUILD_TYPE = "https://assay.dev/soak/v1";
/** The builder: the Assay CLI run on the signer's own machine (no hosted, hardened builder). */
export const SOAK_BUILDER_ID = "https://assay.dev/builders/assay-cli/v1";

/** An in-toto ResourceDescriptor as the provenance uses it. */
export interface ResolvedDependency {
  name: string;
  uri: string;
  digest: { sha256: string };
  annotations?: Record<string, string>;
}

export interface SoakProvenance extends Record<string, unknown> {
  buildDefinition: {
    buildType: typeof SOAK_BUILD_TYPE;
    externalParameters: {
      seed: string;
      iterations: number;
      time_budget_seconds: number;
      evaluation_unit: SoakReport["run"]["evaluation_unit"];
      target: { bundle_id: string; bundle_digest: string };
    };
    internalParameters: {
      assay_version: string;
      report_schema: "soak-report-v1";
      policy_digest?: string;
      pack_ids: string[];
      decision_policy: SoakReport["decision_policy"];
    };
    resolvedDependencies: ResolvedDependency[];
  };
  runDetails: {
    builder: { id: string; version?: Record<string, string> };
    metadata: { invocationId: string; startedOn: string; finishedOn: string };
  };
}

/** A pack the soak applied: its id and version, its path in the bundle and its file's bytes. */
export interface AppliedPack {
  id: string;
  version: string;
  path: string;
  bytes: Uint8Array;
}

export interface SoakProvenanceInput {
  report: SoakReport;
  /** `sha256:<hex>` bundle digest (src/sim/target/digest.ts); must equal the report's. */
  bundleDigest: string;
  packs: readonly AppliedPack[];
  /** Version of the Assay that builds the provenance (the builder). */
  builderVersion: string;
}

/**
 * SLSA provenance v1 for a soak run, the soak report being its subject. A pure function of its
 * input: the same report, bundle and packs give the same predicate. Validated against
 * schemas/slsa-provenance-predicate.schema.json before it is returned.
 */
export function buildSoakProvenance(input: SoakProvenanceInput): SoakProvenance {
  const { report } = input;
  const bundleHex = hexOf(input.bundleDigest);
  const predicate: SoakProvenance = {
    buildDefinition: {
      buildType: SOAK_BUILD_TYPE,
      externalParameters: {
        seed: report.run.seed.toString(),
        iterations: report.run.iterations,
        time_budget_seconds: report.run.time_budget_seconds,
        evaluation_unit: report.run.evaluation_unit,
        target: { bundle_id: report.target.bundle_id, bundle_digest: input.bundleDigest },
      },
      internalParameters: {
        assay_version: report.assay_version,
        report_schema: "soak-report-v1",
        ...(report.target.policy_digest ? { policy_digest: report.target.policy_digest } : {}),
        pack_ids: [...report.target.pack_ids],
        decision_policy: report.decision_policy,
      },
      resolvedDependencies: [
        {
          name: "target",
          uri: `assay:target/${report.target.bundle_id}`,
          digest: { sha256: bundleHex },
          annotations: { bundle_id: report.target.bundle_id, digest_kind: "assay-bundle-digest-v1" },
        },
        ...input.packs.map((p) => ({
          name: p.path,
          uri: `assay:pack/${p.id}@${p.version}`,
          digest: { sha256: sha256Hex(p.bytes) },
          annotations: { id: p.id, version: p.version, digest_kind: "file-sha256" },
        })),
      ],
    },
    runDetails: {
      builder: { id: SOAK_BUILDER_ID, version: { assay: input.builderVersion } },
      metadata: {
        invocationId: report.run.run_id,
        startedOn: report.run.started_at_utc,
        finishedOn: finishedOn(report.run.started_at_utc, report.run.duration_seconds),
      },
    },
  };
  const problem = provenanceProblem(predicate);
  if (problem !== undefined)
    throw new AssayError("input_invalid", `the SLSA provenance is not valid: ${problem}`);
  return predicate;
}

/** `started + seconds` as RFC 3339 UTC, whole seconds without a fraction (as the report writes them). */
export function finishedOn(startedAtUtc: string, durationSeconds: number): string {
  const ms = Date.parse(startedAtUtc);
  if (Number.isNaN(ms))
    throw new AssayError("input_invalid", `started_at_utc \`${startedAtUtc}\` is not a time`);
  return new Date(ms + Math.round(durationSeconds * 1000)).toISOString().replace(/\.000Z$/, "Z");
}

const validate = schemaValidator("slsa-provenance-predicate");

/** The first problem of a predicate against schemas/slsa-provenance-predicate.schema.json, or none. */
export function provenanceProblem(value: unknown): string | undefined {
  if (validate(value)) return undefined;
  const e = validate.errors?.[0];
  return `${e?.instancePath || "/"}: ${e?.message ?? "invalid"}`;
}

function hexOf(prefixed: string): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(prefixed);
  if (!m?.[1]) throw new AssayError("input_invalid", `\`${prefixed}\` is not a sha256:<hex> digest`);
  return m[1];
}
