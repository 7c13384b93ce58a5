import type { Bundle } from "./bundle.js";
import { type CommandDriverOptions, createCommandDriver } from "./command-driver.js";
import type { TrialDriver } from "./driver.js";
import { replayDriver } from "./replay-driver.js";
import { rngFor } from "./rng.js";
import { scriptedCalls } from "./scripted-driver.js";

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
