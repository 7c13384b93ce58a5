import { createHash } from "node:crypto";
import type { MatrixDoc } from "../matrix-doc.js";
import { html, raw } from "./html.js";
import { SCRIPT } from "./script.js";
import { campaignSection } from "./section-campaign.js";
import { claimsSection, groupViews } from "./section-claims.js";
import { disclosuresSection } from "./section-disclosures.js";
import { inputsSection } from "./section-inputs.js";
import { readinessSection } from "./section-readiness.js";
import { soakSection } from "./section-soak.js";
import { statesSection } from "./section-states.js";
import { pageTitle, summarySection } from "./section-summary.js";
import { CSS } from "./styles.js";

/**
 * matrix.html: one self-contained HTML5 page projected from the document alone. Inline CSS and
 * SVG, no external resource of any kind (the page's policy forbids the browser to fetch one),
 * every string from the document escaped, and the same document gives the same bytes.
 */
export function renderMatrixHtml(doc: MatrixDoc): string {
  const groups = groupViews(doc);
  const anchors = groups.map((_, i) => `group-${i + 1}`);
  const contents = [
    { id: "readiness", title: "Readiness" },
    { id: "states", title: "Claim states by group" },
    ...groups.map((g, i) => ({ id: anchors[i] ?? "", title: g.title })),
    { id: "campaign", title: "Evidence campaign" },
    { id: "disclosures", title: "Design-partner disclosures" },
    { id: "soak", title: "Soak runs" },
    { id: "inputs", title: "Inputs" },
  ];
  // Hashes, not 'unsafe-inline': markup that slipped past escaping could neither run nor restyle.
  const csp = `default-src 'none'; style-src '${sha256(CSS)}'; script-src '${sha256(SCRIPT)}'; base-uri 'none'; form-action 'none'`;
  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${raw(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="Assay ${doc.assay_version}">
<title>${pageTitle(doc)}</title>
<style>${raw(CSS)}</style>
</head>
<body>
<main>
${summarySection(doc, contents)}
${readinessSection(doc)}
${statesSection(doc)}
${groups.map((g, i) => claimsSection(g, anchors[i] ?? ""))}
${campaignSection(doc.evidence_campaign)}
${disclosuresSection(doc.design_partner_disclosures)}
${soakSection(doc.soak_runs)}
${inputsSection(doc.inputs)}
</main>
<script>${raw(SCRIPT)}</script>
</body>
</html>
`;
  return page.markup;
}

function sha256(text: string): string {
  return `sha256-${createHash("sha256").update(text, "utf8").digest("base64")}`;
}
