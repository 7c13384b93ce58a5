/** A proportion as a percentage with `digits` decimals: `0.9725` -> `97.3%`. */
export function pct(x: number, digits = 1): string {
  return Number.isFinite(x) ? `${(x * 100).toFixed(digits)}%` : "n/a";
}

/** A Wilson (or any) interval as `95.1%–98.4%`. */
export function interval(ci: readonly [number, number]): string {
  return `${pct(ci[0])}–${pct(ci[1])}`;
}

/** An SVG coordinate with at most two decimals, never `-0` or `NaN` (same input, same bytes). */
export function coord(x: number): string {
  const r = Math.round(x * 100) / 100;
  return Number.isFinite(r) && !Object.is(r, -0) ? String(r) : "0";
}

/** At most `max` characters (code points), an ellipsis marking a cut. */
export function truncate(text: string, max: number): string {
  const chars = Array.from(text);
  return chars.length <= max ? text : `${chars.slice(0, Math.max(1, max - 1)).join("")}…`;
}

/** A criterion's found value as JSON, cut to `max` characters (matrix.json keeps all of it). */
export function foundText(value: unknown, max = 160): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch {
    json = undefined;
  }
  return truncate(json ?? String(value), max);
}

/** A rough width in pixels of `text` in a proportional font of `px` size (SVG lays out no text for us). */
export function textWidth(text: string, px = 12): number {
  return Array.from(text).length * px * 0.6;
}
