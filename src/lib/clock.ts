/** Time as the rest of the code sees it: injected, so tests and seeded runs can fix it. */
export interface Clock {
  /** Wall time as an RFC 3339 UTC timestamp. */
  nowIso(): string;
  /** A monotonic reading in nanoseconds, for durations only. */
  monotonicNs(): bigint;
}

let lastMs = Number.NaN;
let lastIso = "";
let minuteStart = Number.NaN;
/** `YYYY-MM-DDTHH:MM:` of the minute starting at `minuteStart`. */
let minutePrefix = "";

/**
 * `new Date(ms).toISOString()`, written from the text of its minute, which changes once a minute.
 * The gate stamps every record, and one call at a time each record has a new millisecond: a Date
 * and its formatting took ~1 µs warm and ~25 µs with cold caches in a micro-benchmark, this ~0.1
 * and ~9 µs.
 */
export function isoTimestamp(ms: number): string {
  if (!Number.isInteger(ms)) return new Date(ms).toISOString();
  const inMinute = ms - minuteStart;
  if (!(inMinute >= 0 && inMinute < 60_000)) {
    const start = Math.floor(ms / 60_000) * 60_000;
    const iso = new Date(start).toISOString();
    // Years past 9999 (or before 0) are written with six digits and a sign: not this shape.
    if (iso.length !== 24) return new Date(ms).toISOString();
    minuteStart = start;
    minutePrefix = iso.slice(0, 17);
    return isoTimestamp(ms);
  }
  const seconds = Math.floor(inMinute / 1000);
  const millis = inMinute - seconds * 1000;
  return `${minutePrefix}${seconds < 10 ? "0" : ""}${seconds}.${millis < 10 ? "00" : millis < 100 ? "0" : ""}${millis}Z`;
}

export const systemClock: Clock = {
  // The string only changes once a millisecond; the gate asks for it on every call.
  nowIso: () => {
    const ms = Date.now();
    if (ms !== lastMs) {
      lastMs = ms;
      lastIso = isoTimestamp(ms);
    }
    return lastIso;
  },
  monotonicNs: () => process.hrtime.bigint(),
};
