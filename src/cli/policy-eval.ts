import type { Command } from "commander";
import { AssayError, EXIT } from "../lib/errors.js";
import { decide } from "../policy/decide.js";
import { printJson, readJsonInput } from "./io.js";
import { compilePacks } from "./policy-check.js";

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
    .addHelpText("after", "\nExit codes: 0 allow or warn, 1 deny, 2 invalid packs or unreadable input.")
    .action((opts: { pack: string[]; call: string; context?: string; json?: boolean }) =>
      run(async () => {
        const compiled = await compilePacks(opts.pack);
        const call = await readJsonInput(opts.call, "call");
        const context = opts.context === undefined ? {} : await readJsonInput(opts.context, "context");
        if (context === null || typeof context !== "object" || Array.isArray(context)) {
          throw new AssayError("input_invalid", "context must be a JSON object", { where: opts.context });
        }
        const d = decide(compiled, call, context as Record<string, unknown>);
        if (opts.json) printJson(d);
        else {
          process.stdout.write(
            `${d.effect.padEnd(5)}  rule: ${d.rule_id ?? "-"}  reason: ${d.reason_code}\n`,
          );
          process.stdout.write(`  ${d.message}\n`);
          for (const v of d.violations) {
            process.stdout.write(`  - [${v.effect}] ${v.rule_id ?? "-"} ${v.path || "/"}: ${v.message}\n`);
          }
          process.stdout.write(`policy: ${d.policy_digest}\n`);
        }
        return d.effect === "deny" ? EXIT.finding : EXIT.ok;
      }),
    );
}
