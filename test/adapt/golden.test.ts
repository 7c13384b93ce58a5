import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { test } from "node:test";
import { buildPlan, validatePlan } from "../../src/adapt/plan.js";
import { compilePacks } from "../../src/policy/compile-packs.js";

const DIR = new URL("../../examples/adapt/", import.meta.url);
const contexts = readdirSync(DIR)
  .filter((f) => f.startsWith("context_") && f.endsWith(".json"))
  .sort();

test("examples/adapt: every committed plan is what `assay adapt` writes today, byte for byte", async () => {
  const policy = await compilePacks([new URL("lksg.v1.yaml", DIR).pathname]);
  assert.ok(contexts.length >= 3);
  for (const file of contexts) {
    const context = JSON.parse(readFileSync(new URL(file, DIR), "utf8"));
    const plan = buildPlan(policy, context);
    validatePlan(plan);
    const committed = readFileSync(new URL(`plans/${file.replace(/\.json$/, ".plan.json")}`, DIR), "utf8");
    assert.equal(`${JSON.stringify(plan, null, 2)}\n`, committed, file);
  }
});

test("examples/adapt: context_ok activates exactly the three unconditional rules, costs 1, 1, 3", async () => {
  const policy = await compilePacks([new URL("lksg.v1.yaml", DIR).pathname]);
  const plan = buildPlan(policy, JSON.parse(readFileSync(new URL("context_ok.json", DIR), "utf8")));
  assert.deepEqual(plan.active_rules, ["no_sanctions", "no_conflict_regions", "audit_fresh"]);
  // (cost, rule id): the two cost-1 rules tie and `no_conflict_regions` < `no_sanctions`.
  assert.deepEqual(plan.order, ["no_conflict_regions", "no_sanctions", "audit_fresh"]);
  assert.deepEqual(plan.cost, { no_conflict_regions: 1, no_sanctions: 1, audit_fresh: 3 });
  assert.equal(plan.cost_sum, 5);
});
