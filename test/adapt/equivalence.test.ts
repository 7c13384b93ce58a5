import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { buildPlan, toRulePlan } from "../../src/adapt/plan.js";
import { checkTrace } from "../../src/policy/check-trace.js";
import { compilePolicy } from "../../src/policy/compile.js";
import { decide } from "../../src/policy/decide.js";
import type { CompiledPolicy } from "../../src/policy/ir.js";
import type { PackDoc, RuleDoc } from "../../src/policy/pack-types.js";

// Compiling is the slow part: a few hundred packs, each decided over many contexts x calls.
const PACKS = 240;
const CONTEXTS = 6;
const CALLS = 8;

const TOOLS = ["read", "write", "exec", "search"];
const REGIONS = ["EU", "US", "SSA"];

/** `when` entries: context-only, call-dependent, mixed, and some that fail on some contexts. */
const WHEN = [
  'context.region == "EU"',
  'has(context.region) && context.region == "SSA"',
  "has(context.tier) && context.tier > 1",
  "context.tier > 1", // fails when `tier` is missing: kept active, decided per call
  "has(context.flag) && context.flag",
  'tool == "read"',
  "has(args.n) && args.n > 2",
  "args.n > 2", // fails on calls without `n`
  'has(context.region) && (context.region == "US" || tool == "exec")',
  "size(context) > 1", // reads the whole context, so it may read history: per call
  "has(context.history)",
  "named_ctx",
  "named_call",
];
const PREDICATES = { named_ctx: "has(context.tier) && context.tier == 2", named_call: 'tool != "write"' };

const arbRule = (i: number): fc.Arbitrary<RuleDoc> =>
  fc
    .record({
      when: fc.array(fc.constantFrom(...WHEN), { maxLength: 3 }),
      effect: fc.constantFrom("deny", "warn") as fc.Arbitrary<"deny" | "warn">,
      cost: fc.integer({ min: 0, max: 4 }),
      kind: fc.integer({ min: 0, max: 3 }),
      tools: fc.subarray(TOOLS, { minLength: 1 }),
      other: fc.subarray(TOOLS),
    })
    .map(({ when, effect, cost, kind, tools, other }) => {
      const base = { id: `r${i}`, dimension: "security" as const, severity: "high" as const, effect, cost };
      const w = when.length > 0 ? { when } : {};
      if (kind === 0) return { ...base, ...w, tools: { allow: tools, deny: other } } as RuleDoc;
      if (kind === 1)
        return { ...base, ...w, expr: { tools, assert: "!has(args.n) || args.n < 3" } } as RuleDoc;
      if (kind === 2) {
        const schema = { type: "object", properties: { n: { type: "integer", maximum: 3 } } };
        return { ...base, ...w, args: { tools, schema } } as RuleDoc;
      }
      return { ...base, ...w, tools: { deny: other.length > 0 ? other : ["exec"] } } as RuleDoc;
    });

const arbPack: fc.Arbitrary<PackDoc> = fc
  .integer({ min: 1, max: 7 })
  .chain((n) =>
    fc
      .tuple(
        fc.tuple(...Array.from({ length: n }, (_, i) => arbRule(i))),
        fc.constantFrom("deny", "warn", "allow"),
      )
      .map(
        ([rules, defaults]) =>
          ({ id: "p", version: "1.0.0", defaults, predicates: PREDICATES, rules }) as unknown as PackDoc,
      ),
  );

const arbContext = fc.record(
  {
    region: fc.constantFrom(...REGIONS),
    tier: fc.integer({ min: 0, max: 3 }),
    flag: fc.oneof(fc.boolean(), fc.constant("yes")), // a non-bool makes `context.flag` fail
    history: fc.array(fc.constantFrom(...TOOLS), { maxLength: 2 }),
  },
  { requiredKeys: [] },
);

const arbCall = fc.record({
  tool: fc.constantFrom(...TOOLS, "other"),
  arguments: fc.oneof(fc.constant({}), fc.record({ n: fc.integer({ min: 0, max: 5 }) })),
});

let skippedRules = 0;

function same(policy: CompiledPolicy, context: Record<string, unknown>, calls: unknown[]): number {
  for (const selector of ["basic", "weighted"] as const) {
    const weights =
      selector === "weighted" ? new Map(policy.rules.map((r, i) => [r.id, (i * 7) % 5])) : undefined;
    const built = buildPlan(policy, context, { selector, ...(weights ? { weights } : {}) });
    skippedRules += Object.keys(built.skipped).length;
    const plan = toRulePlan(built);
    for (const call of calls) {
      const full = decide(policy, call, context);
      const planned = decide(policy, call, context, { plan });
      assert.deepEqual(planned, full, `${selector} ${JSON.stringify({ context, call })}`);
    }
  }
  return calls.length;
}

test("deciding with a plan gives the decision deciding without one gives (both selectors)", () => {
  let cases = 0;
  fc.assert(
    fc.property(
      arbPack,
      fc.array(arbContext, { minLength: CONTEXTS, maxLength: CONTEXTS }),
      fc.array(arbCall, { minLength: CALLS, maxLength: CALLS }),
      (doc, contexts, calls) => {
        const policy = compilePolicy([doc]);
        for (const context of contexts) cases += same(policy, context, calls);
      },
    ),
    { numRuns: PACKS, seed: 20 },
  );
  // (pack, context, call) triples, each decided with both selectors' plans.
  assert.ok(cases >= 10_000, `only ${cases} cases`);
  // The plans did leave rules out: a selector keeping every rule would pass the comparison above.
  assert.ok(skippedRules > 1000, `only ${skippedRules} rules skipped`);
});

test("checking a trace with a plan per call context finds what checking without plans finds", () => {
  const arbTraceCall = fc.record(
    {
      tool: fc.constantFrom(...TOOLS, "other"),
      arguments: fc.record({ n: fc.integer({ min: 0, max: 5 }) }),
      context: arbContext,
    },
    { requiredKeys: ["tool"] },
  );
  let planned = 0;
  fc.assert(
    fc.property(arbPack, arbContext, fc.array(arbTraceCall, { maxLength: 8 }), (doc, context, calls) => {
      const policy = compilePolicy([doc]);
      const trace = { calls, context };
      const planFor = (ctx: Record<string, unknown>) => {
        planned++;
        return toRulePlan(buildPlan(policy, ctx));
      };
      assert.deepEqual(checkTrace(policy, trace, { planFor }), checkTrace(policy, trace));
    }),
    { numRuns: 200, seed: 21 },
  );
  assert.ok(planned > 500, `only ${planned} plans used`);
});
