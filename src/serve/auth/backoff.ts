import { setTimeout as delay } from "node:timers/promises";

// 100 ms, 200 ms, 400 ms... capped: an IdP that is down for longer is the refetch interval's
// business, not the retry loop's.
const FIRST_DELAY_MS = 100;
const MAX_DELAY_MS = 2000;

/** How long to wait after failed attempt `n` (1-based) before the next one. */
export function backoffMs(n: number): number {
  return Math.min(FIRST_DELAY_MS * 2 ** Math.max(0, n - 1), MAX_DELAY_MS);
}

/** Waits `ms`; false when `signal` aborted the wait. */
export async function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await delay(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}
