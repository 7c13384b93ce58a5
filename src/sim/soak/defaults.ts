// The soak's defaults and bounds, apart from the soak itself so `assay sim --help` loads nothing else.

export const DEFAULT_TRIAL_LIMIT = 10_000;
export const DEFAULT_TIME_BUDGET_SECONDS = 3600;
/** Agents at once: beyond this a soak is a fork bomb, not a measurement. */
export const MAX_CONCURRENCY = 256;
