import assert from "node:assert/strict";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { HistoryReport } from "../../../src/sim/readiness/history.js";
import { defaultReadinessPolicy, type ReadinessPolicy } from "../../../src/sim/readiness/policy.js";
import { assessReadiness, type ReadinessResult } from "../../../src/sim/readiness/readiness.js";
import { readinessProblems } from "../../../src/sim/readiness/report.js";
import { parseSoakReport, type SoakReport, serializeSoakReport } from "../../../src/sim/soak/report.js";
import { runSoak } from "../../../src/sim/soak/run.js";
import { loadBundle } from "../../../src/sim/target/load.js";

export const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const DEMO = join(ROOT, "examples/demo-agent");
/** The upstream reference file, copied unchanged into examples/ (CI has no ../shared). */
export const UPSTREAM_POLICY = join(ROOT, "examples/readiness/soak_readiness_policy_v1.json");
/** What assessReadiness is told besides the reports. */
export const META = { assayVersion: "test", directory: "history" };
const DAY = 86_400_000;
const T0 = Date.parse("2026-01-01T00:00:00Z");

/**
 * A copy of the demo bundle whose agent never slips: every step keeps only its likely choice, so
 * every trial passes and no scenario is flaky.
 */
export function steadyBundle(dir: string): string {
  const d = join(dir, "steady-agent");
  cpSync(DEMO, d, { recursive: true });
  const file = join(d, "assay-target.yaml");
  const yaml = readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => !/\{ p: 0\.0\d,/.test(line))
    .join("\n")
    .replace(/p: 0\.9\d/g, "p: 1");
  writeFileSync(file, yaml);
  return d;
}

/** Real soak reports of `bundle`, one per seed 1..runs, under --deterministic. */
export async function soakReports(
  bundle: string,
  runs: number,
  opts: { iterations?: number; trialLimit?: number } = {},
): Promise<SoakReport[]> {
  const b = await loadBundle(bundle);
  const out: SoakReport[] = [];
  for (let seed = 1; seed <= runs; seed++) {
    const { report } = await runSoak({
      bundle: b,
      iterations: opts.iterations ?? 100,
      seed: BigInt(seed),
      assayVersion: "test",
      deterministic: true,
      ...(opts.trialLimit === undefined ? {} : { trialLimit: opts.trialLimit }),
    });
    out.push(report);
  }
  return out;
}

/** A deep copy (the way a reader of the file would see it). */
export function copy(r: SoakReport): SoakReport {
  return parseSoakReport(serializeSoakReport(r));
}

/**
 * The reports as a history: report i started `i * everyDays` days after 2026-01-01 and took
 * `minutes(i)` minutes; written to `dir` as run-NN.json.
 */
export async function writeHistory(
  dir: string,
  reports: readonly SoakReport[],
  opts: {
    everyDays?: number;
    minutes?: (i: number) => number;
    edit?: (r: SoakReport, i: number) => void;
  } = {},
): Promise<string> {
  await mkdir(dir, { recursive: true });
  reports.forEach((r0, i) => {
    const r = timed(r0, i, opts.everyDays ?? 1, opts.minutes ?? (() => 10));
    opts.edit?.(r, i);
    writeFileSync(join(dir, `run-${String(i).padStart(2, "0")}.json`), serializeSoakReport(r));
  });
  return dir;
}

/** Reports as a history in memory, as writeHistory would write it: run i on day i, `minutes(i)` long. */
export function history(
  reports: readonly SoakReport[],
  opts: { everyDays?: number; minutes?: (i: number) => number } = {},
): HistoryReport[] {
  return reports.map((r, i) => ({
    file: `run-${String(i).padStart(2, "0")}.json`,
    report: timed(r, i, opts.everyDays ?? 1, opts.minutes),
  }));
}

/** A copy of `r` as run i of a history. */
export function timed(r: SoakReport, i: number, everyDays = 1, minutes: (i: number) => number = () => 10) {
  const c = copy(r);
  c.run.started_at_utc = new Date(T0 + i * everyDays * DAY).toISOString().replace(".000Z", "Z");
  c.run.duration_seconds = minutes(i) * 60;
  return c;
}

/** assessReadiness, its result checked against soak-readiness-v1. */
export function assess(
  h: HistoryReport[],
  policy: ReadinessPolicy = defaultReadinessPolicy(),
): ReadinessResult {
  const r = assessReadiness(h, policy, META);
  assert.deepEqual(readinessProblems(r), [], "the result matches soak-readiness-v1");
  return r;
}
