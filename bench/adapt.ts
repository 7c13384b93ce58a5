/**
 * Adaptive planner benchmark: `npm run bench:adapt -- [--json]`.
 *
 * Against the shipped build in dist/ (the npm script builds it first), in one run:
 *
 * - A generated pack of 1,000 rules, each gated by one of ten context predicates
 *   (`context.region == "r<k>"`, rule i reading region i % 10) and checking the `search` tool's
 *   arguments with a CEL `expr` or a JSON Schema `args` check; for a context naming one region,
 *   about 10% of the rules apply.
 * - `selection_p95_us`: building a plan (the `basic` selector over the compiled policy and the
 *   context, no cache), timed one by one, p95 of 2,000 (target ≤ 500 µs; the seed asked < 5 ms).
 * - `plan_cache_hit_us`: mean time of a plan-cache lookup that hits.
 * - `decide_full_p50_us` and `decide_with_plan_p50_us`: one `decide()` of an allowed `search`
 *   call without and with the plan, alternating in rounds, p50 of 20,000 each; every decision
 *   with a plan is checked to equal the one without before timing. `plan_speedup` = full p50 /
 *   with-plan p50 (target ≥ 2).
 *
 * Targets are printed, never asserted. With `--json` the last stdout line is one JSON object.
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { percentile, round, roundTowardMiss, table } from "./stats.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const dist = (p: string) => join(ROOT, "dist", p);
const TARGETS = { selection_p95_us: 500, plan_speedup: 2 };
const RULES = 1000;

const json = process.argv.includes("--json");
for (const a of process.argv.slice(2))
  if (a !== "--json") {
    console.error(`bench:adapt: unknown argument \`${a}\`\nusage: npm run bench:adapt -- [--json]`);
    process.exit(2);
  }

const { compilePolicy, decide } = await import(dist("index.js"));
const { PlanCache } = await import(dist("adapt/plan-cache.js"));
const { buildPlan, toRulePlan } = await import(dist("adapt/plan.js"));

function pack() {
  const predicates: Record<string, string> = {};
  for (let k = 0; k < 10; k++) predicates[`in_r${k}`] = `context.region == "r${k}"`;
  const rules = [];
  for (let i = 0; i < RULES; i++) {
    const base = {
      id: `rule_${String(i).padStart(4, "0")}`,
      dimension: "control",
      severity: "low",
      when: [`in_r${i % 10}`],
      cost: 1 + (i % 5),
    };
    rules.push(
      i % 2 === 0
        ? { ...base, expr: { tools: ["search"], assert: `size(args.query) < ${200 + i}` } }
        : {
            ...base,
            args: {
              tools: ["search"],
              schema: {
                type: "object",
                properties: { query: { type: "string", maxLength: 200 + i } },
                required: ["query"],
              },
            },
          },
    );
  }
  return { id: "bench.adapt", version: "1.0.0", defaults: "allow", predicates, rules };
}

const now = () => process.hrtime.bigint();
const us = (t0: bigint) => Number(now() - t0) / 1000;

const policy = compilePolicy([pack()]);
const context = { region: "r3" };
const decisionContext = context;
const call = { tool: "search", arguments: { query: "supplier due diligence" } };

// Selection, uncached.
for (let i = 0; i < 200; i++) buildPlan(policy, context, { selector: "basic" });
const selection = new Float64Array(2000);
for (let i = 0; i < selection.length; i++) {
  const t0 = now();
  buildPlan(policy, context, { selector: "basic" });
  selection[i] = us(t0);
}
selection.sort();
const plan = buildPlan(policy, context, { selector: "basic" });
const activeShare = plan.active_rules.length / RULES;

// Cache hits.
const cache = new PlanCache();
cache.plan(policy, context, { selector: "basic" });
const hits = 20000;
const th = now();
for (let i = 0; i < hits; i++) cache.plan(policy, context, { selector: "basic" });
const cacheHitUs = us(th) / hits;

// Decisions: equal first, then timed in alternating rounds.
const rulePlan = toRulePlan(plan);
const full = decide(policy, call, decisionContext);
const planned = decide(policy, call, decisionContext, { plan: rulePlan });
if (JSON.stringify(full) !== JSON.stringify(planned)) {
  console.error("bench:adapt: the decision with a plan differs from the one without");
  process.exit(2);
}
const rounds = 10;
const per = 2000;
const fullT = new Float64Array(rounds * per);
const planT = new Float64Array(rounds * per);
for (let r = 0; r < rounds; r++) {
  for (let i = 0; i < per; i++) {
    const t0 = now();
    decide(policy, call, decisionContext);
    fullT[r * per + i] = us(t0);
  }
  for (let i = 0; i < per; i++) {
    const t0 = now();
    decide(policy, call, decisionContext, { plan: rulePlan });
    planT[r * per + i] = us(t0);
  }
}
fullT.sort();
planT.sort();
const result = {
  node_version: process.version,
  rules: RULES,
  active_rules: plan.active_rules.length,
  active_share: round(activeShare, 3),
  selection_p50_us: round(percentile(selection, 0.5), 1),
  // Judged figures are rounded toward missing their targets (bench/stats.ts roundTowardMiss).
  selection_p95_us: roundTowardMiss(percentile(selection, 0.95), 1, "max"),
  plan_cache_hit_us: round(cacheHitUs, 2),
  decide_full_p50_us: round(percentile(fullT, 0.5), 1),
  decide_with_plan_p50_us: round(percentile(planT, 0.5), 1),
  plan_speedup: roundTowardMiss(percentile(fullT, 0.5) / percentile(planT, 0.5), 2, "min"),
};
const targets = {
  selection_p95_us: {
    value: result.selection_p95_us,
    max: TARGETS.selection_p95_us,
    met: result.selection_p95_us <= TARGETS.selection_p95_us,
  },
  plan_speedup: {
    value: result.plan_speedup,
    min: TARGETS.plan_speedup,
    met: result.plan_speedup >= TARGETS.plan_speedup,
  },
};
const out = { ...result, targets, targets_met: Object.values(targets).every((t) => t.met) };
console.log(
  table([
    ["figure", "value", "target"],
    ["active rules", `${result.active_rules} of ${RULES}`, "about 10%"],
    [
      "selection p50 / p95 (µs)",
      `${result.selection_p50_us} / ${result.selection_p95_us}`,
      `p95 ≤ ${TARGETS.selection_p95_us}`,
    ],
    ["plan cache hit (µs)", String(result.plan_cache_hit_us), ""],
    [
      "decide p50 full / with plan (µs)",
      `${result.decide_full_p50_us} / ${result.decide_with_plan_p50_us}`,
      "",
    ],
    ["speedup with plan ×", String(result.plan_speedup), `≥ ${TARGETS.plan_speedup}`],
  ]),
);
console.log(out.targets_met ? "targets met" : "targets not all met");
if (json) console.log(JSON.stringify(out));
