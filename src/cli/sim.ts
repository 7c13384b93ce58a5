import type { Command } from "commander";
import { DEFAULT_TIME_BUDGET_SECONDS, DEFAULT_TRIAL_LIMIT } from "../sim/soak/defaults.js";
import type { SoakCli } from "./actions/sim.js";
import { registerSimReadiness } from "./sim-readiness.js";

export function registerSim(program: Command, run: (fn: () => Promise<number>) => Promise<void>): void {
  const sim = program
    .command("sim")
    .description("seeded reliability soaks of an agent under policy")
    .exitOverride();
  const common = (c: Command) =>
    c
      .requiredOption(
        "-t, --target <bundle>",
        "target bundle: a directory with assay-target.yaml, or a .tar.gz of one",
      )
      .option("--seed <u64>", "run seed (decimal, 0..2^64-1); trial i uses splitmix64(seed, i)", "0")
      .option(
        "--time-budget <seconds>",
        "stop and fail (exit 2) when the run takes longer",
        String(DEFAULT_TIME_BUDGET_SECONDS),
      )
      .option(
        "--trial-limit <n>",
        "trials kept in the report; past it a deterministic sample",
        String(DEFAULT_TRIAL_LIMIT),
      )
      .option("--trials <file.ndjson>", "stream every trial to this file")
      .option(
        "--concurrency <n>",
        "trials run at once (command driver: agent processes); the report is the same for any n",
        "1",
      )
      .option(
        "--work-dir <dir>",
        "command driver: put trial directories (scratch dir, MCP config, decision log) here and keep them",
      )
      .option("--deterministic", "fix run_id, timestamps and durations: same inputs, byte-identical report")
      .option(
        "--no-progress",
        "no progress on stderr (default: a live line on a terminal, a line every 5 s otherwise)",
      )
      .option("--sarif <file>", "also write the violations as SARIF 2.1.0 (for code scanning)")
      .option("--junit <file>", "also write JUnit XML: a testcase per scenario")
      .addHelpText(
        "after",
        [
          "",
          "Exit codes: 0 pass; 1 a threshold is violated (pass rate, CI95 lower bound, a critical",
          "violation); 2 the measurement failed (a canary, infra-error rate, time budget, invalid",
          "bundle or report). The report is written before any exit. ASSAY_SOAK_GATE=off exits 0",
          "after writing it; =warn prints the verdict and exits 0 unless the exit would be 2.",
        ].join("\n"),
      );

  common(
    sim
      .command("soak")
      .description("run many seeded trials and write a soak-report-v1")
      .requiredOption("-n, --iterations <n>", "number of trials (trial i runs scenario i mod S)")
      .requiredOption("-r, --report <path>", "where to write the report (JSON)")
      .option("--shard <i/n>", "run only trials t with t mod n = i-1 (1 ≤ i ≤ n); combine with `sim merge`"),
  )
    .exitOverride()
    .action((opts: SoakCli) => run(async () => (await import("./actions/sim.js")).soak(opts, false)));

  sim
    .command("merge")
    .description("combine the reports of shards 1..n of one soak into the report one run gives")
    .argument("<reports...>", "shard reports (written by `sim soak --shard i/n`)")
    .requiredOption("-r, --report <path>", "where to write the merged report (JSON)")
    .addHelpText(
      "after",
      "\nExit codes and ASSAY_SOAK_GATE: as for `sim soak`; shards that do not belong together: 2.",
    )
    .exitOverride()
    .action((files: string[], opts: { report: string }) =>
      run(async () => (await import("./actions/sim.js")).merge(files, opts.report)),
    );

  common(
    sim
      .command("run")
      .description("one trial per scenario (a quick check); the report is optional")
      .option("-r, --report <path>", "where to write the report (JSON)"),
  )
    .exitOverride()
    .action((opts: SoakCli) => run(async () => (await import("./actions/sim.js")).soak(opts, true)));
  registerSimReadiness(sim, run);
}
