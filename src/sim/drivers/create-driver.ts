import { rngFor } from "../stats/rng.js";
import type { Bundle } from "../target/load.js";
import { type CommandDriverOptions, createCommandDriver } from "./command.js";
import type { TrialDriver } from "./driver.js";
import { replayDriver } from "./replay.js";
import { scriptedCalls } from "./scripted.js";

export type DriverOptions = CommandDriverOptions;

/** The driver the bundle names, ready for its first trial. */
export async function createDriver(bundle: Bundle, options: DriverOptions): Promise<TrialDriver> {
  switch (bundle.target.driver.kind) {
    case "scripted":
      return {
        slow: false,
        trace: ({ scenario, seed }) => ({ ok: true, calls: scriptedCalls(scenario, rngFor(seed)) }),
        close: async () => {},
      };
    case "replay":
      return replayDriver(bundle);
    case "command":
      return createCommandDriver(bundle, options);
  }
}
