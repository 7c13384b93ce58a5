import type { ClaimRow, EvidenceResult, MatrixDoc } from "../matrix-doc.js";
import { stateBadge, statusBadge } from "./badges.js";
import { foundText } from "./format.js";
import { type Html, html, prose } from "./html.js";
import { table } from "./table.js";

export interface GroupView {
  id: string;
  title: string;
  rows: ClaimRow[];
}

/**
 * The groups in the document's order with their claims; a claim whose group the document does
 * not list gets a group of its own, so that every claim has a row somewhere.
 */
export function groupViews(doc: MatrixDoc): GroupView[] {
  const views: GroupView[] = doc.groups.map((g) => ({ id: g.id, title: g.title, rows: [] }));
  for (const r of doc.matrix) {
    let v = views.find((g) => g.id === r.group);
    if (v === undefined) {
      v = { id: r.group, title: r.group, rows: [] };
      views.push(v);
    }
    v.rows.push(r);
  }
  return views;
}

/** A group's section: its claims table, then the limitations of those claims that name one. */
export function claimsSection(g: GroupView, anchor: string): Html {
  const limited = g.rows.filter((r) => r.limitations !== null);
  const limitations =
    limited.length === 0
      ? html`<p>No claim in this group names a limitation.</p>`
      : html`<ul class="limitations">${limited.map((r) => html`<li><strong>${r.id}</strong>: ${prose(r.limitations ?? "")}</li>`)}</ul>`;
  return html`<section id="${anchor}" class="group" aria-labelledby="${anchor}-h">
<h2 id="${anchor}-h">${g.title}</h2>
${table({
  caption: html`Claims of ${g.title} (group <code>${g.id}</code>, ${g.rows.length} claims): evidence, state and recommendation`,
  columns: ["ID", "Claim", "Evidence", "State", "Recommendation"],
  rowHeaders: true,
  className: "claims",
  rows: g.rows.map((r) => [
    html`<code>${r.id}</code>`,
    claimCell(r),
    evidenceCell(r),
    stateCell(r),
    recommendationCell(r),
  ]),
  rowAttrs: (i) => html` data-state="${g.rows[i]?.state ?? ""}"`,
})}
<h3>Key limitations</h3>
${limitations}
</section>`;
}

function claimCell(r: ClaimRow): Html {
  return html`${prose(r.claim)}<div class="meta">required for <code>${r.required_for}</code></div>`;
}

function evidenceCell(r: ClaimRow): Html {
  const signal =
    r.signal === null
      ? null
      : html`<li class="signal">signal <code>${r.signal.file}</code>: <code>${r.signal.expression}</code> = <code>${foundText(r.signal.value)}</code>${r.signal.state === null ? "" : html` → ${r.signal.state}`}</li>`;
  if (r.evidence.length === 0 && signal === null) return html`<span class="meta">no evidence named</span>`;
  return html`<ul class="evidence">${r.evidence.map(source)}${signal}</ul>`;
}

function source(e: EvidenceResult): Html {
  const found = "found" in e ? html`; found <code>${foundText(e.found)}</code>` : null;
  const where =
    e.path !== null && e.path !== e.file ? html` <span class="meta">at <code>${e.path}</code></span>` : null;
  const message = e.message === undefined ? null : html`<div class="meta">${prose(e.message)}</div>`;
  return html`<li>${statusBadge(e.status)} <span class="kind">${e.kind}</span> <code>${e.file}</code>${where}: <code>${e.criterion}</code>${found}${message}</li>`;
}

function stateCell(r: ClaimRow): Html {
  return html`${stateBadge(r.state)}<div class="reason">${prose(r.reason)}</div>`;
}

function recommendationCell(r: ClaimRow): Html {
  const disclosure =
    r.disclosure === null ? null : html`<div class="meta">disclosure <code>${r.disclosure}</code></div>`;
  return html`<code>${r.recommendation}</code>${disclosure}`;
}
