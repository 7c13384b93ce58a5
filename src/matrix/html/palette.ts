import type { ClaimState } from "../matrix-doc.js";

/**
 * Each state's fill and the ink written on it. Every pair has a contrast of at least 4.5:1
 * (WCAG AA for small text); amber carries dark ink because white on amber would not.
 */
export const STATE_STYLE: Readonly<Record<ClaimState, { fill: string; ink: string }>> = {
  VALIDATED: { fill: "#1a7f37", ink: "#ffffff" },
  BETA: { fill: "#e0a800", ink: "#1f2328" },
  NOT_STARTED: { fill: "#57708a", ink: "#ffffff" },
  DEFER: { fill: "#c2410c", ink: "#ffffff" },
  FUTURE_REQUIRED: { fill: "#6f42c1", ink: "#ffffff" },
};

/** A series of a line or point chart: colour, dash and marker differ together, so colour is never the only cue. */
export interface SeriesStyle {
  stroke: string;
  dash: string | null;
  marker: "circle" | "square" | "triangle" | "diamond";
}

// Okabe-Ito colours: told apart by people with the common colour-vision deficiencies.
const STROKES = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#000000"] as const;
const DASHES = [null, "6 4", "2 3", "8 3 2 3"] as const;
const MARKERS = ["circle", "square", "triangle", "diamond"] as const;

/** The style of the `i`-th series (cycling once there are more series than styles). */
export function seriesStyle(i: number): SeriesStyle {
  return {
    stroke: STROKES[i % STROKES.length] ?? "#000000",
    dash: DASHES[i % DASHES.length] ?? null,
    marker: MARKERS[i % MARKERS.length] ?? "circle",
  };
}

export const INK = "#1f2328";
export const MUTED = "#57606a";
export const GRID = "#d0d7de";
