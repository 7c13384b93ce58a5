/**
 * What `assay matrix` reads: evidence artifacts of known kinds, each read by its own parser
 * (src/matrix/sources/) into the JSON its claims' CEL criteria see, with the artifact's own
 * timestamp (never the file system's).
 */

/** Every kind of evidence artifact the matrix reads; anything else is an error. */
export const ARTIFACT_KINDS = [
  "soak_report",
  "readiness_report",
  "bench",
  "audit_kit_verify",
  "evidence_verify",
  "runner_archive",
  "runner_diff",
  "conformance",
  "junit",
] as const;

export type ArtifactKind = (typeof ARTIFACT_KINDS)[number];

/**
 * The wrapper `assay matrix record` writes around a command's JSON output (a bench line, a
 * `--json` verification) so that it carries the command and the time it ran
 * (schemas/recorded-output.schema.json).
 */
export interface RecordedOutput {
  schema_version: "assay.recorded-output.v1";
  kind: ArtifactKind;
  command: string[];
  started_at_utc: string;
  recorded_at_utc: string;
  exit_code: number;
  output: unknown;
}

/** One artifact, read and checked. */
export interface Artifact {
  kind: ArtifactKind;
  /** The path as shown in reports: relative to the working directory, `/`-separated. */
  path: string;
  /** `sha256:<hex>` of the file's bytes (of a directory archive: of its canonical listing). */
  sha256: string;
  /** RFC 3339 UTC time the artifact itself records, or null when it records none. */
  timestamp: string | null;
  /** Where `timestamp` came from (`run.started_at_utc`, `recorded_at_utc`, ...), or why there is none. */
  timestamp_source: string;
  /**
   * What criteria see: the artifact's JSON (for a recorded output, the command's output), as CEL
   * variables by top-level key, and whole as `artifact`.
   */
  data: Record<string, unknown>;
  /** The recording around it, when it came wrapped by `assay matrix record` (CEL: `recorded`). */
  recorded: Omit<RecordedOutput, "output"> | null;
}
