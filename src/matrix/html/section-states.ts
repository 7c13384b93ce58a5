import { CLAIM_STATES, type MatrixDoc } from "../matrix-doc.js";
import { type Html, html } from "./html.js";
import { stateBarsSvg } from "./svg-state-bars.js";
import { table } from "./table.js";

/** The claim states of every group: a stacked bar chart, then the same numbers as a table. */
export function statesSection(doc: MatrixDoc): Html {
  const body =
    doc.groups.length === 0
      ? html`<p>The registry has no groups.</p>`
      : html`<figure>${stateBarsSvg("chart-states", doc.groups)}<figcaption>Claims per group by state; the table below has the same numbers.</figcaption></figure>
${table({
  caption: "Claims per group by state",
  columns: ["Group", ...CLAIM_STATES, "Total"],
  rowHeaders: true,
  className: "numbers",
  rows: [
    ...doc.groups.map((g) => [
      g.title,
      ...CLAIM_STATES.map((s) => g.counts[s]),
      CLAIM_STATES.reduce((n, s) => n + g.counts[s], 0),
    ]),
    [
      "All groups",
      ...CLAIM_STATES.map((s) => sum(doc, s)),
      doc.groups.reduce((n, g) => n + CLAIM_STATES.reduce((m, s) => m + g.counts[s], 0), 0),
    ],
  ],
})}`;
  return html`<section id="states" aria-labelledby="states-h">
<h2 id="states-h">Claim states by group</h2>
${body}
</section>`;
}

function sum(doc: MatrixDoc, s: (typeof CLAIM_STATES)[number]): number {
  return doc.groups.reduce((n, g) => n + g.counts[s], 0);
}
