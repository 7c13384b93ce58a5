import { CLAIM_STATES, type MatrixDoc } from "../matrix-doc.js";
import { levelTitle } from "../readiness.js";
import { check, stateBadge } from "./badges.js";
import { type Html, html } from "./html.js";

/** The matrix's title; an empty one would leave the page without a name. */
export function pageTitle(doc: MatrixDoc): string {
  return doc.title.trim() === "" ? "Evidence matrix" : doc.title;
}

/** The page's heading, one summary paragraph and a table of contents. */
export function summarySection(doc: MatrixDoc, contents: readonly { id: string; title: string }[]): Html {
  const counts = CLAIM_STATES.map(
    (s) => html`<li>${stateBadge(s)} ${doc.matrix.filter((r) => r.state === s).length}</li>`,
  );
  const met = doc.readiness.filter((l) => l.met).map((l) => levelTitle(l.level));
  const unmet = doc.readiness.filter((l) => !l.met).map((l) => levelTitle(l.level));
  const required =
    doc.required === null
      ? null
      : html`<p class="required">Required level (<code>--require</code>): ${levelTitle(doc.required.level)}, ${check(doc.required.met, "met", "not met")}.</p>`;
  return html`<header>
<h1>${pageTitle(doc)}</h1>
<p class="summary">Generated <time datetime="${doc.generated_at_utc}">${doc.generated_at_utc}</time> by Assay ${doc.assay_version} from ${doc.inputs.length} input files: ${doc.matrix.length} claims in ${doc.groups.length} groups. Readiness met: ${met.length === 0 ? "none" : met.join(", ")}; not met: ${unmet.length === 0 ? "none" : unmet.join(", ")}.</p>
<ul class="counts" aria-label="claims by state">${counts}</ul>
${required}
<nav aria-label="contents"><ul>${contents.map((c) => html`<li><a href="#${c.id}">${c.title}</a></li>`)}</ul></nav>
</header>`;
}
