import { TrialSample } from "./sample.js";
import {
  DIMENSIONS,
  type Dimension,
  type DimensionStats,
  type TrialOutcome,
  type TrialResult,
} from "./soak-report.js";

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
  private readonly scenarios = new Map<string, { passes: number; n: number }>();
  private readonly rules = new Map<string, { dimension: Dimension; count: number; examples: string[] }>();

  /** At most `limit` trials are kept, a deterministic sample drawn with `seed` (see TrialSample). */
  constructor(seed: bigint, limit: number) {
    this.sample = new TrialSample<TrialRecord>(seed, limit);
  }

  add(t: TrialRecord): void {
    if (t.outcome === "infra_error") this.infra++;
    else {
      const pass = t.outcome === "pass";
      if (pass) this.passes++;
      else this.fails++;
      const d = this.dims.get(t.dimension) as { pass: number; fail: number };
      if (pass) d.pass++;
      else d.fail++;
      let s = this.scenarios.get(t.scenario);
      if (!s) {
        s = { passes: 0, n: 0 };
        this.scenarios.set(t.scenario, s);
      }
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
      if (r.examples.length < MAX_EXAMPLES) r.examples.push(v.example);
    }
    // The sample key uses the 0-based trial number (see sample.ts); reports count from 1.
    this.sample.offer(t.index - 1, t);
  }

  get judged(): number {
    return this.passes + this.fails;
  }

  dimensions(): Record<Dimension, DimensionStats> {
    const out = {} as Record<Dimension, DimensionStats>;
    for (const [dim, c] of this.dims) {
      const n = c.pass + c.fail;
      out[dim] = { pass_rate: n === 0 ? 0 : c.pass / n, pass_count: c.pass, fail_count: c.fail };
    }
    return out;
  }

  scenarioCounts(): { scenario: string; passes: number; n: number }[] {
    return [...this.scenarios]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([scenario, c]) => ({ scenario, ...c }));
  }

  violations() {
    return [...this.rules]
      .sort(([a, x], [b, y]) => y.count - x.count || (a < b ? -1 : a > b ? 1 : 0))
      .map(([rule_id, r]) => ({ rule_id, dimension: r.dimension, count: r.count, examples: r.examples }));
  }
}

export type { TrialOutcome };
