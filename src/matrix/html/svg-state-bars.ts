import { CLAIM_STATES, type ClaimState } from "../matrix-doc.js";
import { coord, textWidth, truncate } from "./format.js";
import { type Html, html } from "./html.js";
import { INK, MUTED, STATE_STYLE } from "./palette.js";
import { countGrid, countTicks, scale, svgChart } from "./svg.js";

export interface GroupCounts {
  title: string;
  counts: Record<ClaimState, number>;
}

const WIDTH = 720;
const LABEL_W = 180;
const RIGHT = 24;
const ROW_H = 28;
const BAR_H = 18;

/** Stacked horizontal bars: one per group, one segment per state in CLAIM_STATES order, on one count axis. */
export function stateBarsSvg(id: string, groups: readonly GroupCounts[]): Html {
  const legend = legendRows();
  const top = legend.height + 10;
  const totals = groups.map((g) => CLAIM_STATES.reduce((n, s) => n + g.counts[s], 0));
  const ticks = countTicks(Math.max(0, ...totals));
  const x = scale(0, ticks[ticks.length - 1] ?? 1, LABEL_W, WIDTH - RIGHT);
  const bottom = top + groups.length * ROW_H;
  const height = bottom + 34;

  const axis = countGrid(ticks, x, top - 4, bottom);
  const rows = groups.map((g, i) => {
    const y = top + i * ROW_H + (ROW_H - BAR_H) / 2;
    let at = 0;
    const segments = CLAIM_STATES.filter((s) => g.counts[s] > 0).map((s) => {
      const n = g.counts[s];
      const [x0, x1] = [x(at), x(at + n)];
      at += n;
      const st = STATE_STYLE[s];
      const label =
        x1 - x0 >= textWidth(String(n)) + 6
          ? html`<text x="${coord((x0 + x1) / 2)}" y="${coord(y + BAR_H / 2 + 4)}" text-anchor="middle" fill="${st.ink}">${n}</text>`
          : null;
      return html`<g><title>${g.title}: ${n} ${s}</title><rect x="${coord(x0)}" y="${coord(y)}" width="${coord(x1 - x0)}" height="${BAR_H}" fill="${st.fill}"/>${label}</g>`;
    });
    const name = truncate(g.title, Math.floor((LABEL_W - 12) / 7.2));
    return html`<g class="row"><text x="${LABEL_W - 8}" y="${coord(y + BAR_H / 2 + 4)}" text-anchor="end" fill="${INK}">${name}</text>${segments}</g>`;
  });

  const desc = groups
    .map((g) => `${g.title}: ${CLAIM_STATES.map((s) => `${g.counts[s]} ${s}`).join(", ")}`)
    .join("; ");
  return svgChart({
    id,
    title: "Claim states by group",
    desc: `Claims per group by state. ${desc}.`,
    width: WIDTH,
    height,
    body: html`${legend.body}<text x="${WIDTH - RIGHT}" y="${height - 2}" text-anchor="end" fill="${MUTED}">claims</text>${axis}${rows}`,
  });
}

/** The legend: a swatch and the state's name for every state, wrapped to the chart's width. */
function legendRows(): { body: Html; height: number } {
  let [x, y] = [0, 0];
  const items = CLAIM_STATES.map((s) => {
    const w = 14 + 6 + textWidth(s) + 18;
    if (x > 0 && x + w > WIDTH) [x, y] = [0, y + 20];
    const item = html`<rect x="${coord(x)}" y="${y + 2}" width="14" height="14" fill="${STATE_STYLE[s].fill}"/><text x="${coord(x + 20)}" y="${y + 13}" fill="${INK}">${s}</text>`;
    x += w;
    return item;
  });
  return { body: html`<g class="legend">${items}</g>`, height: y + 18 };
}
