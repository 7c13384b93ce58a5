import type { Rng } from "../stats/rng.js";
import type { Call, Scenario } from "../target/types.js";

/**
 * The scripted agent: for each step of the scenario's script, one choice drawn with its
 * probability (inverse CDF on one uniform draw per step). Same seed, same calls.
 */
export function scriptedCalls(scenario: Scenario, rng: Rng): Call[] {
  const calls: Call[] = [];
  for (const step of scenario.script) {
    const u = rng.nextFloat();
    let acc = 0;
    let picked = step.choices[step.choices.length - 1];
    for (const choice of step.choices) {
      acc += choice.p;
      if (u < acc) {
        picked = choice;
        break;
      }
    }
    if (picked) calls.push(picked.call);
  }
  return calls;
}
