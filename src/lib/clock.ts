/** Time as the rest of the code sees it: injected, so tests and seeded runs can fix it. */
export interface Clock {
  /** Wall time as an RFC 3339 UTC timestamp. */
  nowIso(): string;
  /** A monotonic reading in nanoseconds, for durations only. */
  monotonicNs(): bigint;
}

export const systemClock: Clock = {
  nowIso: () => new Date().toISOString(),
  monotonicNs: () => process.hrtime.bigint(),
};
