import { coord, pct } from "./format.js";
import { type Html, html } from "./html.js";
import { GRID, MUTED, type SeriesStyle } from "./palette.js";

export interface Chart {
  /** Unique in the page and fixed for a given document (no random ids: same doc, same bytes). */
  id: string;
  title: string;
  /** The chart's figures in words, for a screen reader (the table next to it has them too). */
  desc: string;
  width: number;
  height: number;
  body: Html;
}

/** An SVG chart that names itself: role img, labelled by its title, described by its desc. */
export function svgChart(c: Chart): Html {
  return html`<svg class="chart" role="img" aria-labelledby="${c.id}-title" aria-describedby="${c.id}-desc" width="${c.width}" height="${c.height}" viewBox="0 0 ${c.width} ${c.height}"><title id="${c.id}-title">${c.title}</title><desc id="${c.id}-desc">${c.desc}</desc>${c.body}</svg>`;
}

/** Maps [d0, d1] onto [r0, r1]. */
export function scale(d0: number, d1: number, r0: number, r1: number): (v: number) => number {
  const span = d1 - d0 === 0 ? 1 : d1 - d0;
  return (v) => r0 + ((v - d0) / span) * (r1 - r0);
}

/**
 * The bottom of a proportion axis that ends at 100%: the largest tenth at or below every value,
 * so that rates near 1 are not squashed into a line (the axis says where it starts).
 */
export function proportionFloor(values: readonly number[]): number {
  const finite = values.filter(Number.isFinite);
  const min = finite.length === 0 ? 0 : Math.min(...finite);
  return Math.min(0.9, Math.max(0, Math.floor(min * 10) / 10));
}

/** Ticks from `lo` to 1, at a step that gives between three and six of them. */
export function proportionTicks(lo: number): number[] {
  const span = 1 - lo;
  const step = span <= 0.1 ? 0.02 : span <= 0.3 ? 0.05 : span <= 0.5 ? 0.1 : 0.2;
  const n = Math.round(span / step);
  return Array.from({ length: n + 1 }, (_, i) => Math.round((lo + i * step) * 1000) / 1000);
}

/** Integer ticks from 0 to at least `max`, at a 1-2-5 step that gives at most six of them. */
export function countTicks(max: number): number[] {
  const top = Math.max(1, max);
  let step = 1;
  for (let mag = 1; ; mag *= 10) {
    const s = [1, 2, 5].map((f) => f * mag).find((f) => Math.ceil(top / f) <= 5);
    if (s !== undefined) {
      step = s;
      break;
    }
  }
  return Array.from({ length: Math.ceil(top / step) + 1 }, (_, i) => i * step);
}

/** Horizontal grid lines with percentage labels left of `x0`. */
export function proportionGrid(
  ticks: readonly number[],
  y: (v: number) => number,
  x0: number,
  x1: number,
): Html {
  return html`<g class="grid">${ticks.map(
    (t) =>
      html`<line x1="${coord(x0)}" y1="${coord(y(t))}" x2="${coord(x1)}" y2="${coord(y(t))}" stroke="${GRID}"/><text x="${coord(x0 - 6)}" y="${coord(y(t) + 4)}" text-anchor="end" fill="${MUTED}">${pct(t, 0)}</text>`,
  )}</g>`;
}

/** Vertical grid lines from `y0` to `y1` at count ticks, each labelled below the plot. */
export function countGrid(
  ticks: readonly number[],
  x: (v: number) => number,
  y0: number,
  y1: number,
): Html[] {
  return ticks.map(
    (t) =>
      html`<line x1="${coord(x(t))}" y1="${y0}" x2="${coord(x(t))}" y2="${y1}" stroke="${GRID}"/><text x="${coord(x(t))}" y="${y1 + 16}" text-anchor="middle" fill="${MUTED}">${t}</text>`,
  );
}

/** A series marker centred on (x, y). */
export function marker(s: SeriesStyle, x: number, y: number, r = 4): Html {
  const [cx, cy] = [coord(x), coord(y)];
  switch (s.marker) {
    case "circle":
      return html`<circle cx="${cx}" cy="${cy}" r="${r}" fill="${s.stroke}"/>`;
    case "square":
      return html`<rect x="${coord(x - r)}" y="${coord(y - r)}" width="${2 * r}" height="${2 * r}" fill="${s.stroke}"/>`;
    case "triangle":
      return html`<path d="M${cx} ${coord(y - r - 1)}L${coord(x + r + 1)} ${coord(y + r)}L${coord(x - r - 1)} ${coord(y + r)}Z" fill="${s.stroke}"/>`;
    case "diamond":
      return html`<path d="M${cx} ${coord(y - r - 1)}L${coord(x + r + 1)} ${cy}L${cx} ${coord(y + r + 1)}L${coord(x - r - 1)} ${cy}Z" fill="${s.stroke}"/>`;
  }
}

/** A short sample of a series (its line and marker), for a legend. */
export function legendSwatch(s: SeriesStyle, x: number, y: number): Html {
  return html`<line x1="${coord(x)}" y1="${coord(y)}" x2="${coord(x + 24)}" y2="${coord(y)}" stroke="${s.stroke}" stroke-width="2"${s.dash === null ? "" : html` stroke-dasharray="${s.dash}"`}/>${marker(s, x + 12, y, 3.5)}`;
}
