import { AssayError, EXIT } from "../../lib/errors.js";
import { compilePacks } from "../../policy/compile-packs.js";
import { decide } from "../../policy/decide.js";
import { printJson } from "../io.js";
import { readJsonInput } from "../json-input.js";
import { packCacheFromEnv } from "../pack-cache.js";

export interface PolicyEvalCli {
  pack: string[];
  call: string;
  context?: string;
  json?: boolean;
  adaptive?: boolean;
}

/** `assay policy eval`: decide one call and print the decision. */
export async function policyEval(opts: PolicyEvalCli): Promise<number> {
  const compiled = await compilePacks(opts.pack, { cache: packCacheFromEnv() });
  const call = await readJsonInput(opts.call, "call");
  const context = opts.context === undefined ? {} : await readJsonInput(opts.context, "context");
  if (context === null || typeof context !== "object" || Array.isArray(context)) {
    throw new AssayError("input_invalid", "context must be a JSON object", { where: opts.context });
  }
  const ctx = context as Record<string, unknown>;
  // Loaded only when asked for, like every command's domain.
  const adapt = opts.adaptive ? await import("../../adapt/plan.js") : undefined;
  const plan = adapt?.toRulePlan(adapt.buildPlan(compiled, ctx));
  const d = decide(compiled, call, ctx, plan ? { plan } : {});
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
