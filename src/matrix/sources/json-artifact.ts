import type { Artifact } from "../artifact.js";
import type { JsonKind } from "./json-kind.js";
import { JSON_KINDS, type JsonArtifactKind } from "./json-kinds.js";
import { checkRecording, isRecording } from "./recorded.js";
import { runnerHealth } from "./runner-health.js";
import { timeAt } from "./timestamp.js";

/** An artifact's judged parts, without what only the file gives (kind, path, sha256). */
export type ArtifactBody = Pick<Artifact, "timestamp" | "timestamp_source" | "data" | "recorded">;

/**
 * A parsed JSON artifact judged as `kind`, bare or recorded. A recording's output is checked as
 * the kind (its faults point under `/output`); its time is the output's own when it has one (a
 * soak run's start), else when it was recorded. A bare command output records no time at all.
 */
export function judgeJsonArtifact(
  kind: JsonArtifactKind | "runner_archive",
  doc: unknown,
  path: string,
): ArtifactBody {
  const reader: JsonKind = kind === "runner_archive" ? runnerHealth : JSON_KINDS[kind];
  if (!isRecording(doc)) {
    const { data, time } = reader.judge(doc, { path, base: "" });
    return {
      data,
      timestamp: time?.timestamp ?? null,
      timestamp_source:
        time?.source ?? `a bare ${kind} output records no time; wrap it with \`assay matrix record\``,
      recorded: null,
    };
  }
  const { output, ...recorded } = checkRecording(doc, kind, path);
  const { data, time } = reader.judge(output, { path, base: "/output" });
  if (time !== null && time.timestamp !== null)
    return { data, timestamp: time.timestamp, timestamp_source: `output.${time.source}`, recorded };
  return {
    data,
    timestamp: timeAt(recorded.recorded_at_utc, { path, base: "" }, "/recorded_at_utc"),
    timestamp_source: time === null ? "recorded_at_utc" : `recorded_at_utc (the output ${time.source})`,
    recorded,
  };
}
