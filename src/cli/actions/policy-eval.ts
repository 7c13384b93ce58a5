import { AssayError, EXIT } from "../../lib/errors.js";
import { compilePacks } from "../../policy/compile-packs.js";
import { decide } from "../../policy/decide.js";
import { printJson, readJsonInput } from "../io.js";

export interface PolicyEvalCli {
  pack: string[];
  call: string;
  context?: string;
  json?: boolean;
}

/** `assay policy eval`: decide one call and print the decision. */
export async function policyEval(opts: PolicyEvalCli): Promise<number> {
  const compiled = await compilePacks(opts.pack);
  const call = await readJsonInput(opts.call, "call");
  const context = opts.context === undefined ? {} : await readJsonInput(opts.context, "context");
  if (context === null || typeof context !== "object" || Array.isArray(context)) {
    throw new AssayError("input_invalid", "context must be a JSON object", { where: opts.context });
  }
  const d = decide(compiled, call, context as Record<string, unknown>);
  if (opts.json) printJson(d);
  else {
    process.stdout.write(`${d.effect.padEnd(5)}  rule: ${d.rule_id ?? "-"}  reason: ${d.reason_code}\n`);
    process.stdout.write(`  ${d.message}\n`);
    for (const v of d.violations) {
      process.stdout.write(`  - [${v.effect}] ${v.rule_id ?? "-"} ${v.path || "/"}: ${v.message}\n`);
    }
    process.stdout.write(`policy: ${d.policy_digest}\n`);
  }
  return d.effect === "deny" ? EXIT.finding : EXIT.ok;
}
