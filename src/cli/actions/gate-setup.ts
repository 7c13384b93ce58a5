import { type DecisionSink, FileDecisionLog } from "../../gate/decision-log.js";
import { loadPins, PinSet, type PinsDoc, pinsSaver } from "../../gate/pins.js";
import { AssayError } from "../../lib/errors.js";
import { compilePacks } from "../../policy/compile-packs.js";
import { readJsonInput } from "../json-input.js";
import type { GateCliOptions } from "../mcp-wrap.js";
import { packCacheFromEnv } from "../pack-cache.js";

/** Compile packs and open the log, pins and context a gate needs, from CLI options. */
export async function gateSetup(opts: GateCliOptions, defaultLabel: string, existingPins?: PinsDoc) {
  const policy = await compilePacks(opts.policy, { cache: packCacheFromEnv() });
  let context: Record<string, unknown> = {};
  if (opts.context !== undefined) {
    const c = await readJsonInput(opts.context, "context");
    if (c === null || typeof c !== "object" || Array.isArray(c)) {
      throw new AssayError("input_invalid", "context must be a JSON object", { where: opts.context });
    }
    context = c as Record<string, unknown>;
  }
  // The gate's context is fixed for the process: one plan, built here (through the plan cache).
  const plan = opts.adaptive
    ? await import("../../adapt/plan-cache.js").then(async (c) => {
        const { toRulePlan } = await import("../../adapt/plan.js");
        const { planLogFields } = await import("../../adapt/metrics.js");
        const built = c.sharedPlanCache.plan(policy, context);
        // Digests and rule ids only: the context itself is never logged.
        process.stderr.write(`assay: adaptive plan: ${JSON.stringify(planLogFields(built))}\n`);
        return toRulePlan(built);
      })
    : undefined;
  const pinsPath = opts.pins;
  const existing = existingPins ?? (pinsPath === undefined ? undefined : await loadPins(pinsPath));
  const pins = new PinSet(existing);
  let sink: DecisionSink | undefined;
  if (opts.decisionLog !== undefined) {
    try {
      sink = await FileDecisionLog.open(opts.decisionLog);
    } catch (err) {
      if (err instanceof AssayError) throw err;
      throw new AssayError(
        "input_unreadable",
        `cannot open decision log: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        { where: opts.decisionLog },
      );
    }
  }
  return {
    policy,
    context,
    ...(plan ? { plan } : {}),
    pins,
    sink,
    label: opts.label ?? defaultLabel,
    denyMode: opts.denyMode,
    dryRun: opts.dryRun === true,
    filterTools: opts.filterTools,
    logArguments: opts.logArguments === true,
    ...(opts.sessionId === undefined ? {} : { sessionId: opts.sessionId }),
    // Every tool the session sees is saved (merged into the file as it is then), on every page
    // and listing, so a tool first listed late is compared next time too.
    ...(pinsPath !== undefined ? { onPinsAdded: pinsSaver(pinsPath) } : {}),
  };
}
