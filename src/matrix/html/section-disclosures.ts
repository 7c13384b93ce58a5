import type { Disclosures } from "../matrix-doc.js";
import { check } from "./badges.js";
import { type Html, html } from "./html.js";
import { table } from "./table.js";

/** The written disclosures every BETA claim needs for Design Partner Ready: required, written, missing. */
export function disclosuresSection(d: Disclosures): Html {
  const isMissing = (claim: string, code: string) =>
    d.missing.some((m) => m.claim === claim && m.code === code);
  const required =
    d.required.length === 0
      ? html`<p>No claim is BETA: nothing needs a written disclosure.</p>`
      : table({
          caption: `Disclosures the BETA claims require (${d.required.length})`,
          columns: ["Claim", "Code", "Written"],
          rowHeaders: true,
          rows: d.required.map((r) => [
            html`<code>${r.claim}</code>`,
            html`<code>${r.code}</code>`,
            check(!isMissing(r.claim, r.code), "written", "missing"),
          ]),
        });
  const written =
    d.written.length === 0
      ? html`<p>The disclosures file lists no codes.</p>`
      : html`<ul class="codes">${d.written.map((c) => html`<li><code>${c}</code></li>`)}</ul>`;
  const missing =
    d.missing.length === 0
      ? html`<p>${check(true, "none missing", "")}</p>`
      : html`<ul class="checklist">${d.missing.map((m) => html`<li><span class="bad">✗</span> <code>${m.code}</code> for <code>${m.claim}</code></li>`)}</ul>`;
  return html`<section id="disclosures" aria-labelledby="disclosures-h">
<h2 id="disclosures-h">Design-partner disclosures</h2>
<p>Disclosures file: ${d.file === null ? "none given" : html`<code>${d.file}</code>`}.</p>
<h3>Required</h3>
${required}
<h3>Written</h3>
${written}
<h3>Missing</h3>
${missing}
</section>`;
}
