import type { SoakRun } from "../matrix-doc.js";
import { coord, truncate } from "./format.js";
import { type Html, html } from "./html.js";
import { INK, MUTED } from "./palette.js";
import { countGrid, countTicks, scale, svgChart } from "./svg.js";

export interface RuleCount {
  rule_id: string;
  count: number;
}

const WIDTH = 600;
const LABEL_W = 210;
const RIGHT = 48;
const ROW_H = 24;
const BAR_H = 16;
const BAR = "#c2410c";

/** Violations per rule summed over the runs, most first, ties by rule id (a fixed order). */
export function violationTotals(runs: readonly SoakRun[]): RuleCount[] {
  const sum = new Map<string, number>();
  for (const r of runs) for (const v of r.violations) sum.set(v.rule_id, (sum.get(v.rule_id) ?? 0) + v.count);
  return [...sum]
    .map(([rule_id, count]) => ({ rule_id, count }))
    .sort((a, b) => b.count - a.count || (a.rule_id < b.rule_id ? -1 : a.rule_id > b.rule_id ? 1 : 0));
}

/** Horizontal bars of violations by rule, each labelled with its count. */
export function violationsSvg(id: string, totals: readonly RuleCount[]): Html {
  const ticks = countTicks(Math.max(0, ...totals.map((t) => t.count)));
  const x = scale(0, ticks[ticks.length - 1] ?? 1, LABEL_W, WIDTH - RIGHT);
  const top = 4;
  const bottom = top + totals.length * ROW_H;
  const height = bottom + 34;

  const grid = countGrid(ticks, x, top, bottom);
  const bars = totals.map((t, i) => {
    const y = top + i * ROW_H + (ROW_H - BAR_H) / 2;
    const w = x(t.count) - x(0);
    const name = truncate(t.rule_id, Math.floor((LABEL_W - 12) / 7.2));
    return html`<g><title>${t.rule_id}: ${t.count}</title><text x="${LABEL_W - 8}" y="${coord(y + BAR_H / 2 + 4)}" text-anchor="end" fill="${INK}">${name}</text><rect x="${LABEL_W}" y="${coord(y)}" width="${coord(Math.max(w, t.count > 0 ? 1 : 0))}" height="${BAR_H}" fill="${BAR}"/><text x="${coord(LABEL_W + w + 6)}" y="${coord(y + BAR_H / 2 + 4)}" fill="${INK}">${t.count}</text></g>`;
  });
  return svgChart({
    id,
    title: "Violations by rule, summed over the soak runs",
    desc: `${totals.map((t) => `${t.rule_id}: ${t.count}`).join("; ")}.`,
    width: WIDTH,
    height,
    body: html`${grid}${bars}<text x="${WIDTH - RIGHT}" y="${height - 2}" text-anchor="end" fill="${MUTED}">violations</text>`,
  });
}
