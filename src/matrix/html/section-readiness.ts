import { type MatrixDoc, READINESS_LEVELS, type ReadinessResult } from "../matrix-doc.js";
import { levelTitle } from "../readiness.js";
import { check } from "./badges.js";
import { type Html, html, prose } from "./html.js";

/** One checklist per readiness level: met or not, and every unmet requirement with its reason. */
export function readinessSection(doc: MatrixDoc): Html {
  // The three levels in their fixed order, whatever order the document lists them in.
  const levels = READINESS_LEVELS.map((l) => doc.readiness.find((r) => r.level === l)).filter(
    (r): r is ReadinessResult => r !== undefined,
  );
  return html`<section id="readiness" aria-labelledby="readiness-h">
<h2 id="readiness-h">Readiness</h2>
${levels.map(level)}
</section>`;
}

function level(r: ReadinessResult): Html {
  const items =
    r.unmet.length === 0
      ? html`<p>${r.met ? "Every requirement of this level holds." : "Not met, and no requirement is named."}</p>`
      : html`<ul class="checklist">${r.unmet.map((u) => html`<li><span class="bad">✗</span> <strong>${u.requirement}</strong>: ${prose(u.reason)}</li>`)}</ul>`;
  return html`<section class="level">
<h3>${levelTitle(r.level)} (<code>${r.level}</code>): ${check(r.met, "met", "not met")}</h3>
${items}
</section>`;
}
