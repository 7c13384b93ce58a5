import { type At, artifactInvalid, describeValue, whereAt } from "./fault.js";

// RFC 3339 date-time. The zone is optional here because JUnit timestamps usually lack one, and
// may be `+hhmm` or `+hh` because ajv-formats' `date-time` (which checks our schemas) allows them.
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;

export interface UtcTime {
  /** RFC 3339 in UTC with `Z`, with as many fraction digits as the text had. */
  utc: string;
  /** Whether the text named its zone (a zone-less time is read as UTC). */
  zoned: boolean;
}

/**
 * An RFC 3339 time as UTC (`2026-12-06T21:31:54.603+01:00` → `2026-12-06T20:31:54.603Z`), or
 * undefined when `text` is not one (or names a day or hour that does not exist: `02-30`, `24:00`,
 * a leap second). The fraction's digits are kept as written, never rounded to milliseconds.
 */
export function toUtc(text: string): UtcTime | undefined {
  const m = DATE_TIME.exec(text);
  if (m === null) return undefined;
  const [, y, mo, d, h, mi, s, fraction = "", zone] = m;
  const local = `${y}-${mo}-${d}T${h}:${mi}:${s}`;
  const ms = Date.parse(`${local}Z`);
  // Date.parse rolls some impossible dates over (Feb 30 → Mar 2): a round trip tells.
  if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 19) !== local) return undefined;
  let offsetMinutes = 0;
  if (zone !== undefined && zone.toUpperCase() !== "Z") {
    const hours = Number(zone.slice(1, 3));
    const minutes = Number(zone.slice(3).replace(":", "") || "0");
    if (hours > 23 || minutes > 59) return undefined;
    offsetMinutes = (zone.startsWith("-") ? -1 : 1) * (hours * 60 + minutes);
  }
  const utc = new Date(ms - offsetMinutes * 60_000).toISOString();
  // A shift past year 0000 or 9999 leaves RFC 3339's four-digit years.
  if (!/^\d{4}-/.test(utc)) return undefined;
  return { utc: `${utc.slice(0, 19)}${fraction}Z`, zoned: zone !== undefined };
}

/**
 * The time a JSON document records at `pointer`, as UTC; an artifact error naming the file and
 * pointer when it is not an RFC 3339 time with a zone.
 */
export function timeAt(value: unknown, at: At, pointer: string): string {
  const t = typeof value === "string" ? toUtc(value) : undefined;
  if (t === undefined || !t.zoned)
    throw artifactInvalid(
      `\`${pointer}\` ${describeValue(value)} is not an RFC 3339 time${t === undefined ? "" : " with a zone"}`,
      whereAt(at, pointer),
    );
  return t.utc;
}
