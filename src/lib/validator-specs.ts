import { createHash } from "node:crypto";

/**
 * The JSON Schema validators generated at build time (scripts/build-validators.mjs, run by
 * `prepare` and `build`) from the schemas shipped in schemas/, with the ajv options each reader
 * relies on. Nothing compiles these at run time: a command loads only the validators it calls.
 *
 * `verbose` gives each error its `parentSchema` (read by "did you mean" hints for unknown keys);
 * `discriminator` makes a target driver's errors come from the branch its `kind` names;
 * `formats` checks `format` keywords (e.g. `date-time`) instead of ignoring them.
 */
export const VALIDATOR_SPECS = {
  // The JSON Schema 2020-12 meta-schema (ajv's copy), with the options packs' `args` schemas are
  // compiled with: compile.ts checks each `args` schema with it, as ajv's `validateSchema` would.
  "args-meta-schema": {
    meta: "https://json-schema.org/draft/2020-12/schema",
    options: {
      allErrors: true,
      strict: true,
      strictTypes: false,
      strictTuples: false,
      strictRequired: false,
      allowUnionTypes: true,
    },
  },
  "adapt-plan": { schema: "adapt-plan.schema.json", options: { strict: true, allowUnionTypes: true } },
  "assay-target": {
    schema: "assay-target.schema.json",
    options: {
      allErrors: true,
      verbose: true,
      strict: true,
      strictRequired: false,
      allowUnionTypes: true,
      discriminator: true,
    },
  },
  "audit-kit-manifest": { schema: "audit-kit-manifest.schema.json", options: { strict: true } },
  "decision-event": {
    schema: "decision-event.schema.json",
    options: { strict: true, allowUnionTypes: true },
  },
  "dsse-envelope": { schema: "dsse-envelope.schema.json", options: { strict: true } },
  "evidence-manifest": { schema: "evidence-manifest.schema.json", options: { strict: true } },
  // `assay matrix` (src/matrix): the claim registry, the disclosures file and matrix.json.
  "matrix-claims": {
    schema: "matrix-claims.schema.json",
    options: { allErrors: true, verbose: true, strict: true, strictRequired: false },
  },
  "matrix-disclosures": {
    schema: "matrix-disclosures.schema.json",
    options: { allErrors: true, strict: true },
  },
  matrix: { schema: "matrix.schema.json", options: { strict: true, allowUnionTypes: true }, formats: true },
  // What `assay matrix record` writes around a command's JSON output (src/matrix/record.ts).
  "recorded-output": { schema: "recorded-output.schema.json", options: { strict: true }, formats: true },
  // What scripts/conformance.ts --json writes, read by `assay matrix` (src/matrix/sources/conformance.ts).
  "conformance-report": {
    schema: "conformance-report.schema.json",
    options: { strict: true },
    formats: true,
  },
  // The --json results of `assay evidence verify` and `assay audit-kit verify`, read by the matrix.
  "evidence-verify-result": { schema: "evidence-verify-result.schema.json", options: { strict: true } },
  "audit-kit-verify-result": { schema: "audit-kit-verify-result.schema.json", options: { strict: true } },
  "in-toto-statement": { schema: "in-toto-statement.schema.json", options: { strict: true } },
  "policy-pack": {
    schema: "policy-pack.schema.json",
    options: { allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true },
  },
  "policy-test": { schema: "policy-test.schema.json", options: { allErrors: true, strict: false } },
  "readiness-policy": {
    schema: "readiness-policy.schema.json",
    options: { allErrors: true, verbose: true, strict: true, strictRequired: false },
  },
  "slsa-provenance-predicate": {
    schema: "slsa-provenance-predicate.schema.json",
    options: { strict: true },
    formats: true,
  },
  // The runner's v0 artifacts (src/runner; ../shared/reference/upstream-assay/runner-contract.md).
  "runner-archive-manifest": { schema: "runner-archive-manifest-v0.schema.json", options: { strict: true } },
  "runner-capability-diff": {
    schema: "runner-capability-diff-v0.schema.json",
    options: { strict: true, allowUnionTypes: true },
  },
  "runner-capability-surface": {
    schema: "runner-capability-surface-v0.schema.json",
    options: { strict: true },
  },
  "runner-correlation-report": {
    schema: "runner-correlation-report-v0.schema.json",
    options: { strict: true, allowUnionTypes: true },
  },
  // Upstream's own schema, verbatim: its `if: {required: ["status"]}` names a property defined only
  // at the top level, which ajv's strictRequired rejects; every other strict check stays on.
  "runner-kernel-event": {
    schema: "runner-kernel-event-v0.schema.json",
    options: { strict: true, strictRequired: false, allowUnionTypes: true },
  },
  "runner-observation-health": {
    schema: "runner-observation-health-v0.schema.json",
    options: { strict: true },
  },
  "runner-policy-event": { schema: "runner-policy-event-v0.schema.json", options: { strict: true } },
  // `assay runner proof`'s manifest (src/runner/proof.ts; its schema is that module's).
  "runner-proof-manifest": { schema: "runner-proof-manifest.schema.json", options: { strict: true } },
  "runner-run-event": {
    schema: "runner-run-event-v0.schema.json",
    options: { strict: true, allowUnionTypes: true },
  },
  "runner-sdk-event": {
    schema: "runner-sdk-event-v0.schema.json",
    options: { strict: true, allowUnionTypes: true },
  },
  // `assay serve` (src/serve): its config, and the bodies of its HTTP API (docs/serve.md).
  "serve-auth": {
    schema: "serve-auth.schema.json",
    options: { allErrors: true, verbose: true, strict: true },
    formats: true,
  },
  "serve-config": {
    schema: "serve-config.schema.json",
    // strictRequired off: mtls's `then: {required: [client_ca_file]}` names a key defined beside it.
    options: { allErrors: true, verbose: true, strict: true, strictRequired: false, allowUnionTypes: true },
  },
  "serve-verify-request": {
    schema: "serve-verify-request.schema.json",
    // strictRequired off: `oneOf: [{required: [call]}, {required: [trace]}]` names keys defined beside it.
    options: { strict: true, strictRequired: false, allowUnionTypes: true },
  },
  "serve-adapt-request": { schema: "serve-adapt-request.schema.json", options: { strict: true } },
  "serve-policy-load-request": { schema: "serve-policy-load-request.schema.json", options: { strict: true } },
  "soak-readiness": {
    schema: "soak-readiness.schema.json",
    options: { allErrors: true, strict: true, allowUnionTypes: true },
    formats: true,
  },
  "soak-report-v1": {
    schema: "soak_report_v1.schema.json",
    options: { allErrors: true, strict: true, allowUnionTypes: true },
    formats: true,
  },
  "soak-result-predicate": { schema: "soak-result-predicate.schema.json", options: { strict: true } },
  "tool-pins": { schema: "tool-pins.schema.json", options: { strict: true } },
} as const satisfies Record<
  string,
  ({ schema: string } | { meta: string }) & { options: Record<string, boolean>; formats?: boolean }
>;

export type ValidatorName = keyof typeof VALIDATOR_SPECS;

type ValidatorSpec = (typeof VALIDATOR_SPECS)[ValidatorName];

/**
 * What a validator is generated from, as text: its schema file, or for ajv's meta-schema its URI
 * and the ajv version that ships it. `read` reads a file by its path from the package root.
 */
export function specSourceText(spec: ValidatorSpec, read: (path: string) => string): string {
  if ("meta" in spec) return `${spec.meta} ajv@${JSON.parse(read("node_modules/ajv/package.json")).version}`;
  return read(`schemas/${spec.schema}`);
}

/**
 * What a generated validator was built from: the schema's bytes (for a meta-schema, its URI and
 * the ajv version that ships it) and the ajv options.
 */
export function specDigest(schemaText: string, spec: ValidatorSpec): string {
  const h = createHash("sha256");
  h.update(schemaText);
  h.update(JSON.stringify({ options: spec.options, formats: "formats" in spec && spec.formats }));
  return `sha256:${h.digest("hex")}`;
}
