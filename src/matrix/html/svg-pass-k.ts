import type { SoakRun } from "../matrix-doc.js";
import { coord, pct, truncate } from "./format.js";
import { type Html, html } from "./html.js";
import { INK, MUTED, seriesStyle } from "./palette.js";
import {
  legendSwatch,
  marker,
  proportionFloor,
  proportionGrid,
  proportionTicks,
  scale,
  svgChart,
} from "./svg.js";

const WIDTH = 600;
const PLOT_H = 220;
const [LEFT, RIGHT, TOP] = [48, 16, 12];
const LEGEND_ROW = 20;

/** pass^k against k: one line per soak run, each with its own colour, dash and marker. */
export function passKSvg(id: string, runs: readonly SoakRun[]): Html {
  const ks = runs.flatMap((r) => r.pass_hat_k.map((p) => p.k));
  const kMax = Math.max(1, ...ks);
  const lo = proportionFloor(runs.flatMap((r) => r.pass_hat_k.map((p) => p.value)));
  const ticks = proportionTicks(lo);
  const bottom = TOP + PLOT_H;
  const y = scale(lo, 1, bottom, TOP);
  const x = scale(1, Math.max(2, kMax), LEFT + 10, WIDTH - RIGHT - 10);
  const every = Math.ceil(kMax / 12);
  const kTicks = Array.from({ length: kMax }, (_, i) => i + 1).filter((k) => k === 1 || k % every === 0);

  const xAxis = kTicks.map(
    (k) => html`<text x="${coord(x(k))}" y="${bottom + 16}" text-anchor="middle" fill="${MUTED}">${k}</text>`,
  );
  const lines = runs.map((r, i) => {
    const s = seriesStyle(i);
    const pts = [...r.pass_hat_k].sort((a, b) => a.k - b.k);
    const d = pts.map((p, j) => `${j === 0 ? "M" : "L"}${coord(x(p.k))} ${coord(y(p.value))}`).join("");
    const path =
      pts.length > 1
        ? html`<path d="${d}" fill="none" stroke="${s.stroke}" stroke-width="2"${s.dash === null ? "" : html` stroke-dasharray="${s.dash}"`}/>`
        : null;
    const marks = pts.map(
      (p) =>
        html`<g><title>run ${i + 1}, k = ${p.k}: ${pct(p.value)}</title>${marker(s, x(p.k), y(p.value))}</g>`,
    );
    return html`<g class="series">${path}${marks}</g>`;
  });
  const legendTop = bottom + 40;
  const legend = runs.map((r, i) => {
    const ly = legendTop + i * LEGEND_ROW;
    return html`${legendSwatch(seriesStyle(i), LEFT, ly)}<text x="${LEFT + 32}" y="${ly + 4}" fill="${INK}">run ${i + 1}: ${truncate(r.run_id, 60)}</text>`;
  });
  const height = legendTop + runs.length * LEGEND_ROW;

  const desc = runs
    .map(
      (r, i) => `run ${i + 1}: ${r.pass_hat_k.map((p) => `k=${p.k} ${pct(p.value)}`).join(", ") || "none"}`,
    )
    .join("; ");
  return svgChart({
    id,
    title: "pass^k per soak run: the chance that k trials in a row all pass",
    desc: `The axis starts at ${pct(lo, 0)}. ${desc}.`,
    width: WIDTH,
    height,
    body: html`${proportionGrid(ticks, y, LEFT, WIDTH - RIGHT)}${xAxis}<text x="${WIDTH - RIGHT}" y="${bottom + 32}" text-anchor="end" fill="${MUTED}">k (trials in a row)</text>${lines}<g class="legend">${legend}</g>`,
  });
}
