import { campaignSummary } from "../campaign.js";
import type { EvidenceCampaign } from "../matrix-doc.js";
import { formatSpan } from "../window.js";
import { check } from "./badges.js";
import { type Html, html, prose } from "./html.js";
import { table } from "./table.js";

const ANCHOR_SOURCE: Readonly<Record<EvidenceCampaign["anchor_source"], string>> = {
  now: "given with --now",
  newest_artifact: "the newest artifact's time",
  none: "no artifact records a time",
};

/** The evidence campaign: its window, where it ends, whether it holds, and what falls outside it. */
export function campaignSection(c: EvidenceCampaign): Html {
  const outside =
    c.outside.length === 0
      ? html`<p>Every dated artifact lies inside the window.</p>`
      : table({
          caption: `Artifacts outside the ${c.window} window (${c.outside.length})`,
          columns: ["Path", "Timestamp", "Reason"],
          rowHeaders: true,
          rows: c.outside.map((o) => [html`<code>${o.path}</code>`, o.timestamp, prose(o.reason)]),
        });
  const missing =
    c.missing_timestamps.length === 0
      ? html`<p>Every artifact records its time.</p>`
      : table({
          caption: `Artifacts that record no time (${c.missing_timestamps.length})`,
          columns: ["Path", "Reason"],
          rowHeaders: true,
          rows: c.missing_timestamps.map((m) => [html`<code>${m.path}</code>`, prose(m.reason)]),
        });
  return html`<section id="campaign" aria-labelledby="campaign-h">
<h2 id="campaign-h">Evidence campaign</h2>
<p>${check(c.holds, "holds", "does not hold")}: ${prose(campaignSummary(c))}.</p>
<dl class="facts">
<dt>Window</dt><dd><code>${c.window}</code> (${c.window_seconds} s)</dd>
<dt>Anchor (window end)</dt><dd>${c.anchor ?? "none"} (${ANCHOR_SOURCE[c.anchor_source] ?? c.anchor_source})</dd>
<dt>Earliest artifact</dt><dd>${c.earliest ?? "none"}</dd>
<dt>Latest artifact</dt><dd>${c.latest ?? "none"}</dd>
<dt>Span</dt><dd>${c.span_seconds === null ? "none" : formatSpan(c.span_seconds)}</dd>
</dl>
<h3>Outside the window</h3>
${outside}
<h3>Missing timestamps</h3>
${missing}
</section>`;
}
