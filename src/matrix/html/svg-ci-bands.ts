import type { SoakRun } from "../matrix-doc.js";
import { coord, interval, pct } from "./format.js";
import { type Html, html } from "./html.js";
import { INK, MUTED } from "./palette.js";
import { proportionFloor, proportionGrid, proportionTicks, scale, svgChart } from "./svg.js";

const MIN_WIDTH = 260;
/** Room per run on the x axis: many runs widen the chart rather than crowd it. */
const SLOT_MIN = 30;
const HEIGHT = 200;
const [LEFT, RIGHT, TOP, BOTTOM] = [44, 12, 26, 34];
const BAND_W = 18;
const BAND = "#0072b2";

/** Every dimension any run reports, in the order the runs first name them. */
export function dimensionsOf(runs: readonly SoakRun[]): string[] {
  return [...new Set(runs.flatMap((r) => r.dimensions.map((d) => d.dimension)))];
}

/**
 * One chart per dimension: runs along x, each with its pass rate (a point) inside its Wilson 95%
 * interval (a band with whiskers). All charts share one y axis so that dimensions compare.
 */
export function ciBandsSvgs(idPrefix: string, runs: readonly SoakRun[]): Html[] {
  const dims = dimensionsOf(runs);
  const lo = proportionFloor(runs.flatMap((r) => r.dimensions.flatMap((d) => [d.pass_rate, d.ci_95[0]])));
  const ticks = proportionTicks(lo);
  const y = scale(lo, 1, HEIGHT - BOTTOM, TOP);
  const width = Math.max(MIN_WIDTH, LEFT + RIGHT + runs.length * SLOT_MIN);
  const slot = (width - LEFT - RIGHT) / Math.max(1, runs.length);
  const x = (i: number) => LEFT + slot * (i + 0.5);

  return dims.map((dim, di) => {
    const points = runs.map((r, i) => ({ i, d: r.dimensions.find((d) => d.dimension === dim) }));
    const marks = points.map(({ i, d }) => {
      if (d === undefined) return null;
      const [top, bottom, cx] = [y(d.ci_95[1]), y(d.ci_95[0]), x(i)];
      const [l, r] = [cx - BAND_W / 2, cx + BAND_W / 2];
      return html`<g><title>run ${i + 1}: ${pct(d.pass_rate)} (${d.passes}/${d.n}), CI95 ${interval(d.ci_95)}</title><rect x="${coord(l)}" y="${coord(top)}" width="${BAND_W}" height="${coord(Math.max(1, bottom - top))}" fill="${BAND}" fill-opacity="0.18"/><path d="M${coord(cx)} ${coord(top)}V${coord(bottom)}M${coord(l)} ${coord(top)}H${coord(r)}M${coord(l)} ${coord(bottom)}H${coord(r)}" stroke="${BAND}" stroke-width="1.5" fill="none"/><circle cx="${coord(cx)}" cy="${coord(y(d.pass_rate))}" r="4" fill="${INK}"/></g>`;
    });
    const labels = runs.map(
      (_, i) =>
        html`<text x="${coord(x(i))}" y="${HEIGHT - BOTTOM + 16}" text-anchor="middle" fill="${MUTED}">${i + 1}</text>`,
    );
    const desc = points
      .map(({ i, d }) =>
        d === undefined
          ? `run ${i + 1}: not reported`
          : `run ${i + 1}: ${pct(d.pass_rate)} (${d.passes} of ${d.n}), CI95 ${interval(d.ci_95)}`,
      )
      .join("; ");
    return svgChart({
      id: `${idPrefix}-${di + 1}`,
      title: `Pass rate of ${dim} per soak run, with Wilson 95% intervals`,
      desc: `The axis starts at ${pct(lo, 0)}. ${desc}.`,
      width,
      height: HEIGHT,
      body: html`<text x="${LEFT}" y="14" fill="${INK}" font-weight="600">${dim}</text>${proportionGrid(ticks, y, LEFT, width - RIGHT)}${marks}${labels}<text x="${width - RIGHT}" y="${HEIGHT - 2}" text-anchor="end" fill="${MUTED}">soak run</text>`,
    });
  });
}
