import { CLAIM_STATES } from "../matrix-doc.js";
import { GRID, INK, MUTED, STATE_STYLE } from "./palette.js";

const SANS =
  'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans", "Liberation Sans", "DejaVu Sans", sans-serif';
const MONO =
  'ui-monospace, SFMono-Regular, Menlo, Consolas, "Liberation Mono", "DejaVu Sans Mono", monospace';

const STATES = CLAIM_STATES.map(
  (s) => `.state-${s}{background:${STATE_STYLE[s].fill};color:${STATE_STYLE[s].ink}}`,
).join("\n");

/** The page's only stylesheet: system fonts, no external resources. */
export const CSS = `:root{color-scheme:light}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 ${SANS};color:${INK};background:#fff}
main{max-width:1200px;margin:0 auto;padding:24px 32px 48px}
h1{font-size:1.8rem;margin:0 0 .4rem}
h2{font-size:1.35rem;margin:2.2rem 0 .6rem;padding-bottom:.25rem;border-bottom:1px solid ${GRID}}
h3{font-size:1.05rem;margin:1.4rem 0 .4rem}
code{font-family:${MONO};font-size:.86em;overflow-wrap:anywhere}
.summary{margin:.2rem 0 .6rem;color:${INK}}
.counts,.codes{list-style:none;padding:0;margin:.4rem 0;display:flex;flex-wrap:wrap;gap:.4rem 1rem}
nav ul{list-style:none;padding:0;margin:.8rem 0 0;display:flex;flex-wrap:wrap;gap:.2rem 1.2rem}
a{color:#0550ae}
.state{display:inline-block;padding:0 .45em;border-radius:3px;font:600 .78rem/1.6 ${MONO};white-space:nowrap}
${STATES}
.ok{color:#116329;font-weight:600}
.bad{color:#a40e26;font-weight:600}
.status{font-weight:600;white-space:nowrap}
.status-pass{color:#116329}
.status-fail,.status-error{color:#a40e26}
.status-missing{color:${MUTED}}
.kind{color:${MUTED}}
.meta,.reason{color:${MUTED};font-size:.85em}
.reason{margin-top:.2rem}
table{border-collapse:collapse;width:100%;margin:.6rem 0 1rem;font-size:.9rem}
caption{text-align:left;font-weight:600;padding:.3rem 0;caption-side:top}
th,td{border:1px solid ${GRID};padding:.35rem .5rem;vertical-align:top;text-align:left}
thead th{background:#f6f8fa}
tbody th{font-weight:600}
table.numbers{width:auto;min-width:50%}
table.numbers td{font-variant-numeric:tabular-nums}
table.claims tbody th code{white-space:nowrap}
ul.evidence{margin:0;padding-left:1rem}
ul.evidence li+li{margin-top:.25rem}
.checklist{list-style:none;padding-left:.2rem}
.facts{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem}
.facts dt{font-weight:600}
.facts dd{margin:0}
figure{margin:.8rem 0}
figcaption{color:${MUTED};font-size:.85rem}
.charts{display:flex;flex-wrap:wrap;gap:8px 16px}
svg.chart{max-width:100%;height:auto;font:12px ${SANS}}
.filter{margin:1.2rem 0 0}
.filter fieldset{border:1px solid ${GRID};padding:.3rem .8rem .5rem}
.filter p{margin:.3rem 0 0;color:${MUTED};font-size:.85rem}
.filter label{margin-right:1rem;white-space:nowrap}
@media print{main{max-width:none;padding:0}.filter{display:none}h2{break-after:avoid}tr{break-inside:avoid}}`;
