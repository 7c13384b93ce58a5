import type { RuleTally, ScenarioTally } from "./aggregate.js";
import type { Shard } from "./shard.js";
import type { SoakTotals } from "./totals.js";

/**
 * What a shard's report carries for `sim merge`, in `summary.thresholds_used.shard` (an object the
 * schema leaves open). Only shard reports have it: one run and a merge leave it out.
 */
export interface ShardInfo {
  index: number;
  count: number;
  trial_limit: number;
  /** The exact `--time-budget` (the report's run.time_budget_seconds is rounded up). */
  time_budget_seconds: number;
  over_budget: boolean;
  scenario_counts: ScenarioTally[];
  /** Violations by rule id, each example with the 1-based index of its trial. */
  violations: RuleTally[];
}

export function shardInfo(
  shard: Shard,
  run: { trialLimit: number; budgetSeconds: number; overBudget: boolean },
  totals: Pick<SoakTotals, "scenarios" | "rules">,
): ShardInfo {
  return {
    index: shard.index,
    count: shard.count,
    trial_limit: run.trialLimit,
    time_budget_seconds: run.budgetSeconds,
    over_budget: run.overBudget,
    scenario_counts: totals.scenarios,
    violations: [...totals.rules].sort((a, b) =>
      a.rule_id < b.rule_id ? -1 : a.rule_id > b.rule_id ? 1 : 0,
    ),
  };
}

/** `value` as a ShardInfo, or the first thing wrong with it. */
export function readShardInfo(value: unknown): ShardInfo | string {
  if (typeof value !== "object" || value === null)
    return "no `summary.thresholds_used.shard`: not a shard report";
  const v = value as Record<string, unknown>;
  const int = (x: unknown, min: number) => Number.isSafeInteger(x) && (x as number) >= min;
  if (!int(v.index, 1) || !int(v.count, 1) || (v.index as number) > (v.count as number))
    return "shard index and count must be integers with 1 ≤ index ≤ count";
  if (!int(v.trial_limit, 1)) return "shard trial_limit must be a positive integer";
  if (typeof v.time_budget_seconds !== "number" || typeof v.over_budget !== "boolean")
    return "shard time_budget_seconds or over_budget is missing";
  const scenarios = v.scenario_counts;
  if (
    !Array.isArray(scenarios) ||
    !scenarios.every(
      (s) =>
        typeof s?.scenario === "string" &&
        typeof s.dimension === "string" &&
        int(s.passes, 0) &&
        int(s.n, 0) &&
        int(s.infra, 0) &&
        s.passes <= s.n,
    )
  )
    return "shard scenario_counts is malformed";
  const rules = v.violations;
  if (
    !Array.isArray(rules) ||
    !rules.every(
      (r) =>
        typeof r?.rule_id === "string" &&
        typeof r.dimension === "string" &&
        int(r.count, 1) &&
        Array.isArray(r.examples) &&
        r.examples.length > 0 &&
        r.examples.every(
          (e: { text?: unknown; index?: unknown }) => typeof e?.text === "string" && int(e.index, 1),
        ),
    )
  )
    return "shard violations is malformed";
  return v as unknown as ShardInfo;
}
