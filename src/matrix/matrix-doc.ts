/**
 * The evidence matrix as `assay matrix` writes it (matrix.json, schemas/matrix.schema.json); the
 * Markdown and HTML reports are projections of this document alone.
 */
import type { ArtifactKind } from "./artifact.js";

export const CLAIM_STATES = ["VALIDATED", "BETA", "NOT_STARTED", "DEFER", "FUTURE_REQUIRED"] as const;
export type ClaimState = (typeof CLAIM_STATES)[number];

export const RECOMMENDATIONS = [
  "OK_DESIGN_PARTNER",
  "BETA_ONLY",
  "NOT_STARTED",
  "DEFER",
  "FUTURE_REQUIRED",
] as const;
export type Recommendation = (typeof RECOMMENDATIONS)[number];

/** Each state's one recommendation (the seed's meanings: docs/matrix.md). */
export const RECOMMENDATION_FOR: Record<ClaimState, Recommendation> = {
  VALIDATED: "OK_DESIGN_PARTNER",
  BETA: "BETA_ONLY",
  NOT_STARTED: "NOT_STARTED",
  DEFER: "DEFER",
  FUTURE_REQUIRED: "FUTURE_REQUIRED",
};

export const READINESS_LEVELS = ["design_partner", "ga", "public_production"] as const;
export type ReadinessLevel = (typeof READINESS_LEVELS)[number];

/** How one evidence source of a claim fared. */
export interface EvidenceResult {
  kind: ArtifactKind;
  /** The file as the registry names it (relative to an evidence directory). */
  file: string;
  /** Where it was found (relative to the working directory), or null when missing. */
  path: string | null;
  criterion: string;
  /** pass: criterion true; fail: false; error: it could not be evaluated; missing: no such file. */
  status: "pass" | "fail" | "error" | "missing";
  /** The value the criterion compared (its left operand), as JSON; absent when missing. */
  found?: unknown;
  /** Why it failed or could not be evaluated. */
  message?: string;
}

export interface ClaimRow {
  id: string;
  group: string;
  claim: string;
  required_for: ReadinessLevel;
  state: ClaimState;
  recommendation: Recommendation;
  /** pass: every criterion held; fail: one did not (or could not be evaluated); missing: evidence absent; none: the claim names no evidence. */
  verdict: "pass" | "fail" | "missing" | "none";
  /** One line saying why the claim has its state. */
  reason: string;
  evidence: EvidenceResult[];
  limitations: string | null;
  disclosure: string | null;
  /** The artifact field that drove the state, when the claim names one. */
  signal: { file: string; expression: string; value: unknown; state: ClaimState | null } | null;
}

export interface InputFile {
  /** registry | disclosures | evidence */
  role: "registry" | "disclosures" | "evidence";
  path: string;
  sha256: string;
  kind?: ArtifactKind;
  /** The artifact's own time (evidence only), null when it records none. */
  timestamp?: string | null;
  timestamp_source?: string;
}

export interface EvidenceCampaign {
  window: string;
  window_seconds: number;
  /** The window's end: `--now` when given, else the newest artifact's time. */
  anchor: string | null;
  anchor_source: "now" | "newest_artifact" | "none";
  earliest: string | null;
  latest: string | null;
  span_seconds: number | null;
  holds: boolean;
  outside: { path: string; timestamp: string; reason: string }[];
  missing_timestamps: { path: string; reason: string }[];
}

export interface Disclosures {
  file: string | null;
  /** The disclosure code of every BETA claim. */
  required: { claim: string; code: string }[];
  /** The codes the disclosures file lists. */
  written: string[];
  /** Required codes the file does not list. */
  missing: { claim: string; code: string }[];
}

export interface ReadinessResult {
  level: ReadinessLevel;
  met: boolean;
  unmet: { requirement: string; reason: string }[];
}

/** Figures of each soak report among the evidence, for the charts. */
export interface SoakRun {
  path: string;
  run_id: string;
  bundle_id: string;
  started_at_utc: string;
  /** Trials run, when the report says (`summary.thresholds_used.trials_run`). */
  trials: number | null;
  pass_rate: number;
  ci_95: [number, number];
  dimensions: { dimension: string; pass_rate: number; passes: number; n: number; ci_95: [number, number] }[];
  pass_hat_k: { k: number; value: number }[];
  violations: { rule_id: string; count: number }[];
}

export interface MatrixDoc {
  schema_version: "assay.matrix.v1";
  assay_version: string;
  /** `--now`, or the time the matrix was built (a timing field). */
  generated_at_utc: string;
  title: string;
  groups: { id: string; title: string; counts: Record<ClaimState, number> }[];
  matrix: ClaimRow[];
  evidence_campaign: EvidenceCampaign;
  design_partner_disclosures: Disclosures;
  readiness: ReadinessResult[];
  /** The level asked for with `--require`, and whether it is met. */
  required: { level: ReadinessLevel; met: boolean } | null;
  soak_runs: SoakRun[];
  inputs: InputFile[];
}
