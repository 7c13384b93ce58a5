import type { Dimension } from "../policy/pack-types.js";

/** What a trial tells the JUnit projection (a `TrialRecord` fits). */
export interface TrialFacts {
  scenario: string;
  outcome: "pass" | "fail" | "infra_error";
  error_kind?: string;
  error_message?: string;
  violations: readonly { rule_id: string }[];
}

/** One scenario's trials: counts, failing rules by count, and the first infra error. */
export interface ScenarioResult {
  id: string;
  dimension: Dimension;
  passes: number;
  fails: number;
  infra: number;
  /** Violations that failed a trial, by rule id; `expectations` counts trials failed by unmet expectations alone. */
  rules: Map<string, number>;
  expectations: number;
  firstInfraError?: string;
}

/**
 * Per-scenario tallies, fed every trial as it finishes (`runSoak`'s `onTrial`), so they cover every
 * trial even when the report keeps only a sample.
 */
export class ScenarioResults {
  private readonly byId = new Map<string, ScenarioResult>();

  /** `scenarios` in bundle order: every one gets a result, even with no trial. */
  constructor(scenarios: readonly { id: string; dimension: Dimension }[]) {
    for (const s of scenarios)
      this.byId.set(s.id, {
        id: s.id,
        dimension: s.dimension,
        passes: 0,
        fails: 0,
        infra: 0,
        rules: new Map(),
        expectations: 0,
      });
  }

  add(t: TrialFacts): void {
    const s = this.byId.get(t.scenario);
    // INVARIANT: every trial runs a scenario of the bundle the tallies were made for.
    if (!s) throw new Error(`unknown scenario \`${t.scenario}\``);
    if (t.outcome === "pass") s.passes++;
    else if (t.outcome === "fail") {
      s.fails++;
      if (t.error_kind === "expectation_failed") s.expectations++;
      for (const v of t.violations) s.rules.set(v.rule_id, (s.rules.get(v.rule_id) ?? 0) + 1);
    } else {
      s.infra++;
      if (s.firstInfraError === undefined)
        s.firstInfraError = `${t.error_kind ?? "infra_error"}: ${t.error_message ?? ""}`;
    }
  }

  /** The results in bundle order. */
  results(): ScenarioResult[] {
    return [...this.byId.values()];
  }
}
