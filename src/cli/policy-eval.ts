import type { Command } from "commander";
import type { PolicyEvalCli } from "./actions/policy-eval.js";

export function registerPolicyEval(policy: Command, run: (fn: () => Promise<number>) => Promise<void>): void {
  policy
    .command("eval")
    .description("decide one tool call against packs and print the decision")
    .requiredOption("-p, --pack <file...>", "policy pack files (repeatable)")
    .requiredOption(
      "-c, --call <file>",
      "the call as JSON: {tool, arguments} or an MCP tools/call request; `-` reads stdin",
    )
    .option("--context <file>", "context JSON that `when` predicates and expressions read as `context`")
    .option("--json", "print the decision as JSON")
    .option("--adaptive", "decide with a plan built for the context (docs/adapt.md): the same decision")
    .addHelpText("after", "\nExit codes: 0 allow or warn, 1 deny, 2 invalid packs or unreadable input.")
    .action((opts: PolicyEvalCli) =>
      run(async () => (await import("./actions/policy-eval.js")).policyEval(opts)),
    );
}
