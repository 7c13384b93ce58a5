import { AssayError } from "../lib/errors.js";

const UNIT_SECONDS = { w: 604_800, d: 86_400, h: 3_600, m: 60, s: 1 } as const;

/** `--window`: a whole number of weeks, days, hours, minutes or seconds (`7d`, `36h`, `2w`). */
export function parseWindow(text: string): number {
  const m = /^([1-9][0-9]{0,6})([wdhms])$/.exec(text.trim());
  if (m === null) {
    throw new AssayError("usage", `--window \`${text}\` is not a duration like \`7d\`, \`36h\` or \`2w\``);
  }
  return Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS];
}

/** A span of seconds the way a person reads it: `6d 23h`, `5h 2m`, `42s`. */
export function formatSpan(seconds: number): string {
  const s = Math.round(Math.abs(seconds));
  const d = Math.floor(s / 86_400);
  const h = Math.floor((s % 86_400) / 3_600);
  const m = Math.floor((s % 3_600) / 60);
  if (d > 0) return h > 0 ? `${d}d ${h}h` : `${d}d`;
  if (h > 0) return m > 0 ? `${h}h ${m}m` : `${h}h`;
  if (m > 0) return `${m}m`;
  return `${s}s`;
}
