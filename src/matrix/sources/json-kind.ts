import type { At } from "./fault.js";

/** The time a document records, normalized to UTC, and where it came from; or null and why not. */
export interface OwnTime {
  timestamp: string | null;
  /** A path into the document (`run.started_at_utc`), or why there is no time. */
  source: string;
}

/** A JSON artifact checked as its kind: what criteria see, and its own time. */
export interface Judged {
  data: Record<string, unknown>;
  /** null for a kind that never records a time of its own (a command's output). */
  time: OwnTime | null;
}

/** The reader of one JSON artifact kind: checks a parsed document, bare or inside a recording. */
export interface JsonKind {
  /** What a document of this kind is, for messages: `a soak-report-v1`. */
  what: string;
  /** Check `doc` (sitting at `at`); throws `matrix_artifact_invalid` naming the pointer at fault. */
  judge(doc: unknown, at: At): Judged;
}
