import { DIMENSIONS, type Dimension } from "../../policy/pack-types.js";
import { TrialSample } from "../stats/sample.js";
import type { TrialOutcome, TrialResult } from "./report.js";

/** One finished trial, as the runner hands it over. */
export interface TrialRecord extends TrialResult {
  scenario: string;
  dimension: Dimension;
  /** Violations that failed the trial, for the violations table. */
  violations: { rule_id: string; dimension: Dimension; critical: boolean; example: string }[];
}

const MAX_EXAMPLES = 3;

/**
 * Everything the report needs, computed as trials stream past: counts, per-scenario tallies for
 * pass^k, violations by rule, and at most `limit` kept trials. Memory does not grow with the
 * number of trials beyond the kept sample.
 */
export class SoakAggregate {
  passes = 0;
  fails = 0;
  infra = 0;
  critical = 0;
  readonly sample: TrialSample<TrialRecord>;
  private readonly dims = new Map<Dimension, { pass: number; fail: number }>(
    DIMENSIONS.map((d) => [d, { pass: 0, fail: 0 }]),
  );
  private readonly scenarios = new Map<
    string,
    { dimension: Dimension; passes: number; n: number; infra: number }
  >();
  // Examples with the 1-based index of their trial: trials stream in index order, so the first
  // MAX_EXAMPLES are those with the lowest indices, which is what merging shards keeps too.
  private readonly rules = new Map<
    string,
    { dimension: Dimension; count: number; examples: { text: string; index: number }[] }
  >();

  /** At most `limit` trials are kept, a deterministic sample drawn with `seed` (see TrialSample). */
  constructor(seed: bigint, limit: number) {
    this.sample = new TrialSample<TrialRecord>(seed, limit);
  }

  add(t: TrialRecord): void {
    let s = this.scenarios.get(t.scenario);
    if (!s) {
      s = { dimension: t.dimension, passes: 0, n: 0, infra: 0 };
      this.scenarios.set(t.scenario, s);
    }
    if (t.outcome === "infra_error") {
      this.infra++;
      s.infra++;
    } else {
      const pass = t.outcome === "pass";
      if (pass) this.passes++;
      else this.fails++;
      const d = this.dims.get(t.dimension) as { pass: number; fail: number };
      if (pass) d.pass++;
      else d.fail++;
      s.n++;
      if (pass) s.passes++;
    }
    for (const v of t.violations) {
      if (v.critical) this.critical++;
      let r = this.rules.get(v.rule_id);
      if (!r) {
        r = { dimension: v.dimension, count: 0, examples: [] };
        this.rules.set(v.rule_id, r);
      }
      r.count++;
      if (r.examples.length < MAX_EXAMPLES) r.examples.push({ text: v.example, index: t.index });
    }
    // The sample key uses the 0-based trial number (see sample.ts); reports count from 1.
    this.sample.offer(t.index - 1, t);
  }

  get judged(): number {
    return this.passes + this.fails;
  }

  /** Pass and fail counts per dimension (infra errors excluded). */
  dimensionCounts(): Record<Dimension, { pass: number; fail: number }> {
    const out = {} as Record<Dimension, { pass: number; fail: number }>;
    for (const [dim, c] of this.dims) out[dim] = { ...c };
    return out;
  }

  /** Per scenario, by id: every scenario a trial ran, infra-error-only ones included. */
  scenarioTallies(): ScenarioTally[] {
    return [...this.scenarios]
      .sort(([a], [b]) => byString(a, b))
      .map(([scenario, c]) => ({ scenario, ...c }));
  }

  /** Violations by rule, each example with the 1-based index of its trial. */
  ruleTallies(): RuleTally[] {
    return [...this.rules].map(([rule_id, r]) => ({ rule_id, ...r }));
  }
}

/** One scenario's trials: `n` judged (`passes` of them passed) and `infra` infra errors. */
export interface ScenarioTally {
  scenario: string;
  dimension: Dimension;
  passes: number;
  n: number;
  infra: number;
}

export interface RuleTally {
  rule_id: string;
  dimension: Dimension;
  count: number;
  examples: { text: string; index: number }[];
}

/** pass^k's input: scenarios with at least one judged trial, by id (the order the sum runs in). */
export function passKCounts(tallies: readonly ScenarioTally[]): { passes: number; n: number }[] {
  return tallies.filter((s) => s.n > 0).map((s) => ({ passes: s.passes, n: s.n }));
}

/** The report's `violations`: most frequent first, then by rule id. */
export function violationsTable(rules: readonly RuleTally[]) {
  return [...rules]
    .sort((x, y) => y.count - x.count || byString(x.rule_id, y.rule_id))
    .map((r) => ({
      rule_id: r.rule_id,
      dimension: r.dimension,
      count: r.count,
      examples: r.examples.map((e) => e.text),
    }));
}

/** Keep the `MAX_EXAMPLES` examples with the lowest trial index (stable within one trial). */
export function lowestExamples(examples: readonly { text: string; index: number }[]) {
  return [...examples].sort((a, b) => a.index - b.index).slice(0, MAX_EXAMPLES);
}

function byString(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export type { TrialOutcome };
