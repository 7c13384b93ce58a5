import type { ArtifactKind } from "../artifact.js";
import { auditKitVerify } from "./audit-kit-verify.js";
import { bench } from "./bench.js";
import { conformance } from "./conformance.js";
import { evidenceVerify } from "./evidence-verify.js";
import type { JsonKind } from "./json-kind.js";
import { readinessReport } from "./readiness-report.js";
import { runnerDiff } from "./runner-diff.js";
import { soakReport } from "./soak-report.js";

/** The kinds whose artifact is one JSON document, which may also come recorded (`assay matrix record`). */
export type JsonArtifactKind = Exclude<ArtifactKind, "runner_archive" | "junit">;

export const JSON_KINDS: Readonly<Record<JsonArtifactKind, JsonKind>> = {
  soak_report: soakReport,
  readiness_report: readinessReport,
  bench,
  audit_kit_verify: auditKitVerify,
  evidence_verify: evidenceVerify,
  runner_diff: runnerDiff,
  conformance,
};

export function isJsonArtifactKind(kind: ArtifactKind): kind is JsonArtifactKind {
  return Object.hasOwn(JSON_KINDS, kind);
}
