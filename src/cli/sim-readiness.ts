import type { Command } from "commander";
import type { ReadinessCli } from "./actions/sim-readiness.js";

/** `assay sim readiness`: promotion criteria over a directory of soak reports. */
export function registerSimReadiness(sim: Command, run: (fn: () => Promise<number>) => Promise<void>): void {
  sim
    .command("readiness")
    .description("judge a history of soak reports against promotion criteria, explaining each one")
    .requiredOption(
      "--history <dir>",
      "directory of soak-report-v1 files (every *.json in it, not recursive)",
    )
    .option(
      "--policy <file>",
      "readiness policy, YAML or JSON: Assay's format or upstream soak_readiness_policy_v1 (default: built-in)",
    )
    .option("-o, --out <file>", "write the readiness JSON (soak-readiness-v1) here")
    .option("--json", "print the readiness JSON on stdout instead of the table")
    .addHelpText(
      "after",
      [
        "",
        "Defaults: the most recent 20 runs; at least 14 runs spanning at least 14 days; pass rate",
        "(infra errors excluded) >= 0.95; CI95 lower bound >= 0.90; flake rate <= 0.05; infra-error",
        "rate <= 0.05; median run duration <= 20 min and p95 <= 35 min. See docs/readiness.md.",
        "",
        "Exit codes: 0 ready; 1 not ready (a threshold is not met); 2 insufficient data (too few",
        "runs, too short a span, nothing to measure) or invalid input (an unreadable, invalid or",
        "shard report, a bad policy). The readiness JSON is written before any exit it has a verdict for.",
      ].join("\n"),
    )
    .exitOverride()
    .action((opts: ReadinessCli) =>
      run(async () => (await import("./actions/sim-readiness.js")).simReadiness(opts)),
    );
}
