import { rngFor } from "../stats/rng.js";
import type { Bundle } from "../target/load.js";
import type { TrialDriver } from "./driver.js";
import { mutateTrace } from "./mutations.js";

/**
 * The `replay` driver: each trial replays its scenario's recorded trace (parsed once, when the
 * bundle loaded), perturbed by one seeded mutation from the bundle's mutation set (none: as
 * recorded). Offline and deterministic: the trial's seed decides everything.
 */
export function replayDriver(bundle: Bundle): TrialDriver {
  const driver = bundle.target.driver;
  if (driver.kind !== "replay") throw new Error("replayDriver: not a replay bundle");
  const { mutations, mutated } = driver.replay;
  return {
    slow: false,
    trace: ({ scenario, seed }) => {
      const recorded = scenario.trace === null ? undefined : bundle.traces.get(scenario.trace);
      if (recorded === undefined) {
        return {
          ok: false,
          error_kind: "driver_error",
          error_message: `no trace for scenario ${scenario.id}`,
        };
      }
      const { calls, applied } = mutateTrace(recorded.calls, mutations, rngFor(seed));
      return {
        ok: true,
        calls,
        ...(recorded.refusals.length > 0 ? { refusals: recorded.refusals } : {}),
        ...(applied === null
          ? {}
          : {
              note: `${applied.kind}/${applied.variant} at call ${applied.call_index} ${applied.path}`,
              ...(mutated === "must_flag" ? { attack: { recorded: recorded.calls } } : {}),
            }),
      };
    },
    close: async () => {},
  };
}
