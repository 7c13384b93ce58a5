import { randomUUID } from "node:crypto";
import { AssayError } from "../../lib/errors.js";
import { DIMENSIONS, type Dimension } from "../../policy/pack-types.js";
import { TrialSample } from "../stats/sample.js";
import type { DecisionPolicy } from "../target/types.js";
import { lowestExamples, type RuleTally, type ScenarioTally } from "./aggregate.js";
import { assembleSoakReport } from "./assemble.js";
import { type SoakReport, soakReportProblems } from "./report.js";
import type { SoakResult } from "./run.js";
import { readShardInfo, type ShardInfo } from "./shard-info.js";
import type { KeptTrial, SoakTotals } from "./totals.js";
import { soakVerdict } from "./verdict.js";

/** A shard report as read from `where` (a file name, for messages). */
export interface ShardReport {
  where: string;
  report: SoakReport;
}

/**
 * Combine the reports of shards 1..n of one soak into the report the whole run gives: counts
 * summed, every rate, interval, pass^k and the verdict recomputed, the 3 lowest-index examples per
 * rule, and the bottom-k sample of the union. Throws `input_invalid` when the shards do not belong
 * together. run_id and traceparent: kept when all shards agree (`--deterministic`), else a new
 * run_id and shard 1's traceparent; started_at_utc the earliest; duration_seconds the longest.
 */
export function mergeSoakReports(shards: readonly ShardReport[]): SoakResult {
  if (shards.length === 0) throw new AssayError("usage", "sim merge needs at least one shard report");
  const infos: ShardInfo[] = shards.map(({ where, report }) => {
    const problems = soakReportProblems(report);
    if (problems.length > 0) bad(where, `not a soak-report-v1: ${problems.slice(0, 3).join("; ")}`);
    const info = readShardInfo(report.summary.thresholds_used.shard);
    if (typeof info === "string") bad(where, info);
    return info as ShardInfo;
  });
  const first = (shards[0] as ShardReport).report;
  const firstInfo = infos[0] as ShardInfo;
  const n = firstInfo.count;
  const same = (what: string, pick: (r: SoakReport, i: ShardInfo) => unknown) => {
    const want = key(pick(first, firstInfo));
    shards.forEach(({ where, report }, i) => {
      if (key(pick(report, infos[i] as ShardInfo)) !== want)
        bad(where, `${what} differs from the first shard's`);
    });
  };
  same("bundle_digest", (r) => r.target.bundle_digest);
  same("policy_digest", (r) => r.target.policy_digest);
  same("target", (r) => r.target);
  same("seed", (r) => r.run.seed);
  same("iterations", (r) => r.run.iterations);
  same("time budget", (r, i) => [r.run.time_budget_seconds, i.time_budget_seconds]);
  same("trial limit", (_r, i) => i.trial_limit);
  same("decision policy", (r) => r.decision_policy);
  same("shard count", (_r, i) => i.count);
  same("assay_version", (r) => r.assay_version);
  same("canaries", (r) => r.canaries ?? []);
  const seen = new Map<number, string>();
  shards.forEach(({ where }, i) => {
    const index = (infos[i] as ShardInfo).index;
    const other = seen.get(index);
    if (other !== undefined) bad(where, `shard ${index}/${n} is also in \`${other}\``);
    seen.set(index, where);
  });
  for (let i = 1; i <= n; i++) {
    if (!seen.has(i)) throw new AssayError("input_invalid", `shard ${i}/${n} is missing`);
  }

  const counts = (k: string) =>
    shards.reduce((sum, { report }) => sum + Number(report.summary.thresholds_used[k]), 0);
  const dimensions = {} as Record<Dimension, { pass: number; fail: number }>;
  for (const dim of DIMENSIONS) {
    dimensions[dim] = { pass: 0, fail: 0 };
    for (const { report } of shards) {
      dimensions[dim].pass += report.summary.dimensions[dim].pass_count;
      dimensions[dim].fail += report.summary.dimensions[dim].fail_count;
    }
  }
  const scenarios = mergeScenarios(infos);
  const dimensionOf = new Map(scenarios.map((s) => [s.scenario, s.dimension]));
  const sample = new TrialSample<KeptTrial>(first.run.seed, firstInfo.trial_limit);
  for (const { report } of shards) {
    for (const t of report.trials ?? []) {
      const scenario = (t.trial_id ?? "").slice(0, Math.max(0, (t.trial_id ?? "").lastIndexOf("#")));
      // Only pass and fail trials show a dimension; their scenario had a judged trial.
      sample.offer(t.index - 1, { trial: t, dimension: dimensionOf.get(scenario) ?? "correctness" });
    }
  }
  const totals: SoakTotals = {
    ran: counts("trials_run"),
    passes: counts("pass_count"),
    fails: counts("fail_count"),
    infra: counts("infra_error_count"),
    critical: counts("critical_violations"),
    dimensions,
    scenarios,
    rules: mergeRules(infos),
    kept: sample.entries().map((e) => e.item),
  };
  const th = first.decision_policy.thresholds as Omit<DecisionPolicy, "name" | "fail_mode">;
  const canaries = first.canaries ?? [];
  const verdict = soakVerdict({
    dp: { ...th, name: first.decision_policy.name, fail_mode: first.decision_policy.fail_mode },
    canaries,
    iterations: first.run.iterations,
    ran: totals.ran,
    passes: totals.passes,
    fails: totals.fails,
    infra: totals.infra,
    critical: totals.critical,
    overBudget: infos.some((i) => i.over_budget),
    budgetSeconds: firstInfo.time_budget_seconds,
    judge: "thresholds",
  });
  const all = (pick: (r: SoakReport) => string) => shards.every(({ report }) => pick(report) === pick(first));
  const started = shards
    .map(({ report }) => report.run.started_at_utc)
    .sort((a, b) => Date.parse(a) - Date.parse(b))[0] as string;
  const report = assembleSoakReport(
    {
      assayVersion: first.assay_version,
      run: {
        run_id: all((r) => r.run.run_id) ? first.run.run_id : randomUUID(),
        started_at_utc: started,
        duration_seconds: Math.max(...shards.map(({ report }) => report.run.duration_seconds)),
        seed: first.run.seed,
        iterations: first.run.iterations,
        time_budget_seconds: first.run.time_budget_seconds,
      },
      traceparent: (shards[infos.findIndex((i) => i.index === 1)] ?? (shards[0] as ShardReport)).report.trace
        .traceparent,
      target: first.target,
      decisionPolicy: first.decision_policy,
    },
    totals,
    canaries,
    verdict,
  );
  return { report, verdict };
}

function mergeScenarios(infos: readonly ShardInfo[]): ScenarioTally[] {
  const by = new Map<string, ScenarioTally>();
  for (const info of infos) {
    for (const s of info.scenario_counts) {
      const m = by.get(s.scenario);
      if (!m) by.set(s.scenario, { ...s });
      else {
        m.passes += s.passes;
        m.n += s.n;
        m.infra += s.infra;
      }
    }
  }
  return [...by.values()].sort((a, b) => (a.scenario < b.scenario ? -1 : a.scenario > b.scenario ? 1 : 0));
}

function mergeRules(infos: readonly ShardInfo[]): RuleTally[] {
  const by = new Map<string, RuleTally>();
  for (const info of infos) {
    for (const r of info.violations) {
      const m = by.get(r.rule_id);
      if (!m) by.set(r.rule_id, { ...r, examples: [...r.examples] });
      else {
        // A rule's dimension is the one of its first violation in the whole run.
        if ((r.examples[0]?.index ?? Infinity) < (m.examples[0]?.index ?? Infinity))
          m.dimension = r.dimension;
        m.count += r.count;
        m.examples = lowestExamples([...m.examples, ...r.examples]);
      }
    }
  }
  return [...by.values()].map((r) => ({ ...r, examples: lowestExamples(r.examples) }));
}

function key(v: unknown): string {
  return JSON.stringify(v, (_k, x) => (typeof x === "bigint" ? x.toString() : x));
}

function bad(where: string, message: string): never {
  throw new AssayError("input_invalid", `\`${where}\`: ${message}`, { where });
}
