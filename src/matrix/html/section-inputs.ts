import type { InputFile } from "../matrix-doc.js";
import { type Html, html } from "./html.js";
import { table } from "./table.js";

/** Every file the matrix read, with its sha256, so that a reviewer can check they judge the same bytes. */
export function inputsSection(inputs: readonly InputFile[]): Html {
  const body =
    inputs.length === 0
      ? html`<p>No inputs are recorded.</p>`
      : table({
          caption: `Input files (${inputs.length})`,
          columns: ["Path", "Role", "Kind", "sha256", "Timestamp"],
          rowHeaders: true,
          className: "inputs",
          rows: inputs.map((f) => [
            html`<code>${f.path}</code>`,
            f.role,
            f.kind ?? "—",
            html`<code class="digest">${f.sha256}</code>`,
            timestamp(f),
          ]),
        });
  return html`<section id="inputs" aria-labelledby="inputs-h">
<h2 id="inputs-h">Inputs</h2>
${body}
</section>`;
}

function timestamp(f: InputFile): Html {
  const source =
    f.timestamp_source === undefined ? null : html`<div class="meta">${f.timestamp_source}</div>`;
  if (f.timestamp === undefined) return html`—${source}`;
  return html`${f.timestamp ?? "none recorded"}${source}`;
}
