/** Time as the rest of the code sees it: injected, so tests and seeded runs can fix it. */
export interface Clock {
  /** Wall time as an RFC 3339 UTC timestamp. */
  nowIso(): string;
  /** A monotonic reading in nanoseconds, for durations only. */
  monotonicNs(): bigint;
}

let lastMs = Number.NaN;
let lastIso = "";

export const systemClock: Clock = {
  // The string only changes once a millisecond; the gate asks for it on every call.
  nowIso: () => {
    const ms = Date.now();
    if (ms !== lastMs) {
      lastMs = ms;
      lastIso = new Date(ms).toISOString();
    }
    return lastIso;
  },
  monotonicNs: () => process.hrtime.bigint(),
};
