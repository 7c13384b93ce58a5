import type { Command } from "commander";
import type { AdaptCli } from "./actions/adapt.js";

type Run = (fn: () => Promise<number>) => Promise<void>;

/** `assay adapt`: plan which rules of a policy apply in a context, and in what order. */
export function registerAdapt(program: Command, run: Run): void {
  program
    .command("adapt")
    .description("plan which rules apply in a context and in what order (a deterministic plan JSON)")
    .requiredOption("-p, --policy <pack...>", "policy pack files (repeatable)")
    .requiredOption("--context <ctx.json>", "the context JSON that `when` predicates read as `context`")
    .option("--selector <name>", "basic (the packs' costs) or weighted (costs from --weights)", "basic")
    .option("--weights <rules.yaml>", "`rule_id: weight` overrides (with --selector weighted only)")
    .option("--dry-run", "print the plan and a summary without writing a file")
    .option("-o, --out <plan.json>", "write the plan here (atomically); stdout without it")
    .addHelpText("after", "\nSee docs/adapt.md. Exit codes: 0 plan written or printed; 2 invalid input.")
    .exitOverride()
    .action((opts: AdaptCli) => run(async () => (await import("./actions/adapt.js")).adapt(opts)));
}
