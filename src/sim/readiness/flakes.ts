import { judge, limit, pct } from "./criteria.js";
import type { FlakyScenario, ReadinessCriterion } from "./result.js";
import { cmp, type Run } from "./runs.js";

/** Scenarios seen in the window, those both passed and failed under one bundle digest. */
export interface Flakes {
  observed: number;
  flaky: FlakyScenario[];
  fromSample: boolean;
}

/**
 * Per-scenario outcomes come from each report's `trials` (trial_id `<scenario>#<index>`): every
 * trial up to the report's trial limit, a sample past it (then a flake may be missed: `fromSample`).
 */
export function findFlakes(window: readonly Run[]): Flakes {
  const tallies = new Map<string, { scenario: string; digest: string; passes: number; fails: number }>();
  const scenarios = new Set<string>();
  let fromSample = false;
  for (const r of window) {
    const trials = r.report.trials ?? [];
    if (trials.length < r.trials_run) fromSample = true;
    for (const trial of trials) {
      if (trial.outcome === "infra_error") continue;
      const id = trial.trial_id ?? "";
      const scenario = id.slice(0, Math.max(0, id.lastIndexOf("#")));
      if (scenario === "") continue;
      scenarios.add(scenario);
      const key = `${r.bundle_digest}\n${scenario}`;
      let t = tallies.get(key);
      if (!t) {
        t = { scenario, digest: r.bundle_digest, passes: 0, fails: 0 };
        tallies.set(key, t);
      }
      if (trial.outcome === "pass") t.passes++;
      else t.fails++;
    }
  }
  const flaky = [...tallies.values()]
    .filter((t) => t.passes > 0 && t.fails > 0)
    .map((t) => ({ scenario: t.scenario, bundle_digest: t.digest, passes: t.passes, fails: t.fails }))
    .sort((a, b) => cmp(a.scenario, b.scenario) || cmp(a.bundle_digest, b.bundle_digest));
  return { observed: scenarios.size, flaky, fromSample };
}

/** The share of scenarios seen that are flaky, against the policy's maximum. */
export function flakeCriterion(f: Flakes, max: number): ReadinessCriterion {
  const names = [...new Set(f.flaky.map((x) => x.scenario))];
  const rate = f.observed === 0 ? null : names.length / f.observed;
  const list = names.length === 0 ? "" : ` (${names.slice(0, 5).join(", ")}${names.length > 5 ? ", …" : ""})`;
  const sampled = f.fromSample ? "; from sampled trials, so a lower bound" : "";
  return judge(
    "flake_rate",
    "threshold",
    "<=",
    max,
    rate,
    (v) =>
      `${names.length} of ${f.observed} scenario(s) both passed and failed under one bundle digest${list} = ${pct(v)}${sampled}; at most ${limit(max)} is allowed`,
  );
}
