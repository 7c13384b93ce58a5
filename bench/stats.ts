/** Small timing helpers shared by the benchmarks. Nothing here is measured itself. */

import { readdirSync, statSync } from "node:fs";

/** Nearest-rank percentile of an ascending-sorted sample (q in [0, 1]). */
export function percentile(sorted: Float64Array, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

export function mean(sample: Float64Array): number {
  let sum = 0;
  for (const v of sample) sum += v;
  return sample.length === 0 ? Number.NaN : sum / sample.length;
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length === 0) return Number.NaN;
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Time `fn(i)` once per iteration with process.hrtime.bigint(); returns the sorted per-call
 * durations in nanoseconds. The timer itself costs a few tens of nanoseconds per call and is
 * included in every sample.
 */
export function timeEach(iterations: number, fn: (i: number) => unknown): Float64Array {
  const out = new Float64Array(iterations);
  let sink = 0;
  for (let i = 0; i < iterations; i++) {
    const t0 = process.hrtime.bigint();
    const r = fn(i);
    const t1 = process.hrtime.bigint();
    out[i] = Number(t1 - t0);
    if (r === undefined) sink++;
  }
  if (sink < 0) console.log(sink);
  return out.sort();
}

/** Wall time of `iterations` calls as one batch, in nanoseconds (no per-call timer overhead). */
export function timeBatch(iterations: number, fn: (i: number) => unknown): number {
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) if (fn(i) === undefined) sink++;
  const t1 = process.hrtime.bigint();
  if (sink < 0) console.log(sink);
  return Number(t1 - t0);
}

/** Round to `digits` decimals (for printing and the JSON line). */
export function round(value: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * Round a figure judged against an upper limit (`≤`) up, and one judged against a lower limit
 * (`≥`) down, to `digits` decimals, so that judging the figure as printed is never more lenient
 * than judging the figure measured: a CPU ratio of 1.309 prints as 1.31 and misses a limit of 1.3,
 * where plain rounding would print 1.3 and meet it. The 1e-9 keeps a figure that equals its
 * step up to float error (13 / 10 × 100 = 130.00000000000003) on that step.
 */
export function roundTowardMiss(value: number, digits: number, limit: "max" | "min"): number {
  const f = 10 ** digits;
  const r = limit === "max" ? Math.ceil(value * f - 1e-9) / f : Math.floor(value * f + 1e-9) / f;
  return r === 0 ? 0 : r; // not -0
}

/** A left-aligned text table. */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows)
    for (const [i, cell] of row.entries()) widths[i] = Math.max(widths[i] ?? 0, cell.length);
  return rows
    .map((row) =>
      row
        .map((cell, i) => cell.padEnd(widths[i] ?? 0))
        .join("  ")
        .trimEnd(),
    )
    .join("\n");
}

/** Newest modification time (ms) of the files under `dir` whose names end with `ext`. */
export function newest(dir: string, ext: string): number {
  let latest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile() && e.name.endsWith(ext))
      latest = Math.max(latest, statSync(`${e.parentPath}/${e.name}`).mtimeMs);
  }
  return latest;
}
