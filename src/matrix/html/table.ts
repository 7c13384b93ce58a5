import { type Html, html, type Part } from "./html.js";

export interface TableSpec {
  caption: Part;
  /** Column headings; the first column's cells become row headers when `rowHeaders` is set. */
  columns: readonly string[];
  rows: readonly (readonly Part[])[];
  className?: string;
  rowHeaders?: boolean;
  /** Attributes of each row's `<tr>`, e.g. `data-state` for the claims filter. */
  rowAttrs?: (i: number) => Html;
}

/** A data table with a caption and `scope`d headers, so that a screen reader names every cell. */
export function table(t: TableSpec): Html {
  const head = t.columns.map((c) => html`<th scope="col">${c}</th>`);
  const body = t.rows.map((cells, i) => {
    const tds = cells.map((c, j) =>
      j === 0 && t.rowHeaders === true ? html`<th scope="row">${c}</th>` : html`<td>${c}</td>`,
    );
    return html`<tr${t.rowAttrs?.(i) ?? ""}>${tds}</tr>`;
  });
  return html`<table${t.className === undefined ? "" : html` class="${t.className}"`}><caption>${t.caption}</caption><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
}
