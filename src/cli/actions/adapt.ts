import { buildPlan, type Plan, validatePlan } from "../../adapt/plan.js";
import { SELECTORS, type SelectorName } from "../../adapt/select.js";
import { parseWeights } from "../../adapt/weights.js";
import { writeFileAtomic } from "../../lib/atomic-write.js";
import { AssayError, EXIT } from "../../lib/errors.js";
import { refuseOverlappingOutputs } from "../../lib/output-paths.js";
import { readTextFile } from "../../lib/read-text.js";
import { compilePacks } from "../../policy/compile-packs.js";
import { readJsonInput } from "../json-input.js";
import { packCacheFromEnv } from "../pack-cache.js";

export interface AdaptCli {
  policy: string[];
  context: string;
  selector: string;
  weights?: string;
  dryRun?: boolean;
  out?: string;
}

/** `assay adapt`: build, validate and write (or print) a plan. */
export async function adapt(opts: AdaptCli): Promise<number> {
  if (!(SELECTORS as readonly string[]).includes(opts.selector)) {
    throw new AssayError("usage", `unknown selector \`${opts.selector}\` (basic, weighted)`);
  }
  const selector = opts.selector as SelectorName;
  refuseOverlappingOutputs(
    [{ path: opts.dryRun ? undefined : opts.out, option: "--out" }],
    [
      ...opts.policy.map((path) => ({ path, option: "--policy" })),
      { path: opts.context, option: "--context" },
      { path: opts.weights, option: "--weights" },
    ],
  );
  if (opts.weights !== undefined && selector !== "weighted") {
    throw new AssayError("usage", "--weights needs --selector weighted");
  }
  const policy = await compilePacks(opts.policy, { cache: packCacheFromEnv() });
  const context = await readContext(opts.context);
  const weights =
    opts.weights === undefined
      ? undefined
      : parseWeights(await readTextFile(opts.weights, "input_unreadable", "weights"), opts.weights, policy);
  const plan = buildPlan(policy, context, { selector, ...(weights ? { weights } : {}) });
  validatePlan(plan);
  const text = `${JSON.stringify(plan, null, 2)}\n`;
  if (opts.dryRun) {
    process.stdout.write(text);
    process.stdout.write(summary(plan));
  } else if (opts.out !== undefined) await writeFileAtomic(opts.out, text);
  else process.stdout.write(text);
  return EXIT.ok;
}

/** Read a context file: a JSON object. */
export async function readContext(path: string): Promise<Record<string, unknown>> {
  const context = await readJsonInput(path, "context");
  if (context === null || typeof context !== "object" || Array.isArray(context)) {
    throw new AssayError("input_invalid", "context must be a JSON object", { where: path });
  }
  return context as Record<string, unknown>;
}

/** One screen: counts, cost sum, and the reasons that activated or skipped the most rules. */
function summary(plan: Plan): string {
  const skipped = Object.keys(plan.skipped).length;
  const lines = [
    "",
    `plan: ${plan.active_rules.length} active, ${skipped} skipped, cost sum ${plan.cost_sum} (${plan.selector})`,
    `order: ${plan.order.join(", ") || "-"}`,
  ];
  const top = (m: Readonly<Record<string, readonly string[]>>): string => {
    const counts = new Map<string, number>();
    for (const names of Object.values(m)) for (const n of names) counts.set(n, (counts.get(n) ?? 0) + 1);
    return (
      [...counts]
        .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
        .slice(0, 5)
        .map(([n, c]) => `${n} (${c})`)
        .join(", ") || "-"
    );
  };
  lines.push(`active because: ${top(plan.reason)}`, `skipped because: ${top(plan.skipped)}`, "");
  return lines.join("\n");
}
