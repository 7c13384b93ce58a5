import type { Artifact } from "./artifact.js";
import type { EvidenceCampaign } from "./matrix-doc.js";
import { formatSpan } from "./window.js";

/**
 * The evidence campaign: every artifact's own timestamp must fall within one window ending at
 * `--now` when given, else at the newest artifact. An artifact that records no time, or one
 * outside the window (or after `--now`), breaks it; with no artifacts there is no campaign.
 */
export function evidenceCampaign(
  artifacts: readonly Artifact[],
  window: { text: string; seconds: number },
  now: string | null,
): EvidenceCampaign {
  const stamped = artifacts
    .filter((a): a is Artifact & { timestamp: string } => a.timestamp !== null)
    .map((a) => ({ a, ms: Date.parse(a.timestamp) }))
    .sort((x, y) => x.ms - y.ms || cmp(x.a.path, y.a.path));
  const missing_timestamps = artifacts
    .filter((a) => a.timestamp === null)
    .map((a) => ({ path: a.path, reason: a.timestamp_source }))
    .sort((x, y) => cmp(x.path, y.path));
  const first = stamped[0];
  const last = stamped[stamped.length - 1];
  const anchorMs = now !== null ? Date.parse(now) : last?.ms;
  const anchor = now ?? last?.a.timestamp ?? null;
  const outside: EvidenceCampaign["outside"] = [];
  if (anchorMs !== undefined) {
    for (const { a, ms } of stamped) {
      if (ms > anchorMs) {
        outside.push({
          path: a.path,
          timestamp: a.timestamp,
          reason: `${formatSpan((ms - anchorMs) / 1000)} after --now`,
        });
      } else if (anchorMs - ms > window.seconds * 1000) {
        outside.push({
          path: a.path,
          timestamp: a.timestamp,
          reason: `${formatSpan((anchorMs - ms) / 1000)} before the window's end, which is ${window.text} long`,
        });
      }
    }
  }
  return {
    window: window.text,
    window_seconds: window.seconds,
    anchor,
    anchor_source: now !== null ? "now" : last !== undefined ? "newest_artifact" : "none",
    earliest: first?.a.timestamp ?? null,
    latest: last?.a.timestamp ?? null,
    span_seconds: first && last ? (last.ms - first.ms) / 1000 : null,
    holds: artifacts.length > 0 && missing_timestamps.length === 0 && outside.length === 0,
    outside,
    missing_timestamps,
  };
}

/** One line on the campaign, for readiness reasons and the reports. */
export function campaignSummary(c: EvidenceCampaign): string {
  if (c.earliest === null && c.missing_timestamps.length === 0) return "no evidence artifacts were read";
  const parts: string[] = [];
  if (c.outside.length > 0) parts.push(`${c.outside.length} artifact(s) outside the ${c.window} window`);
  if (c.missing_timestamps.length > 0)
    parts.push(`${c.missing_timestamps.length} artifact(s) record no time`);
  if (parts.length === 0)
    return `every artifact within ${c.window} (span ${formatSpan(c.span_seconds ?? 0)})`;
  return parts.join("; ");
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
