import assert from "node:assert/strict";
import { test } from "node:test";
import { NO_ADAPT_METRICS, planLogFields, promAdaptMetrics } from "../../src/adapt/metrics.js";
import { PlanCache } from "../../src/adapt/plan-cache.js";
import { policyFromYaml } from "../policy/helpers.js";

test("the planner's metrics, in Prometheus' text format", async () => {
  const m = promAdaptMetrics();
  m.planBuilt("basic", 3, 0.00004);
  m.planBuilt("weighted", 5, 0.0002);
  m.planBuilt("basic", 2, 0.00003);
  m.selectionFailed();
  const text = await m.registry.metrics();
  assert.match(text, /^adapt_plans_total\{selector="basic"\} 2$/m);
  assert.match(text, /^adapt_plans_total\{selector="weighted"\} 1$/m);
  assert.match(text, /^adapt_selected_rules_total 10$/m);
  assert.match(text, /^adapt_selection_failures_total 1$/m);
  assert.match(text, /^adapt_selection_latency_seconds_count 3$/m);
  assert.match(text, /^adapt_selection_latency_seconds_bucket\{le="0.00005"\} 2$/m);
  // Two registries do not share counters.
  assert.doesNotMatch(await promAdaptMetrics().registry.metrics(), /adapt_plans_total\{/);
  NO_ADAPT_METRICS.planBuilt("basic", 1, 0);
  NO_ADAPT_METRICS.selectionFailed();
});

test("a plan's log fields carry digests and rule ids, never the context", () => {
  const plan = {
    ir_digest: "sha256:aa",
    context_digest: "sha256:bb",
    selector: "basic",
    active_rules: ["no_sanctions"],
    context: { supplier: "secret" },
  };
  const fields = planLogFields(plan);
  assert.deepEqual(fields, {
    policy_digest: "sha256:aa",
    context_digest: "sha256:bb",
    selector: "basic",
    active_rules: ["no_sanctions"],
  });
  assert.doesNotMatch(JSON.stringify(fields), /secret/);
});

test("the plan cache reports each plan it builds, not its hits, and each failed selection", async () => {
  const m = promAdaptMetrics();
  const cache = new PlanCache(8, m);
  const policy = policyFromYaml(`
id: m
version: "1"
defaults: allow
predicates:
  prod: 'context.env == "prod"'
rules:
  - { id: a, dimension: control, severity: low, when: [prod], tools: { deny: [x] } }
  - { id: b, dimension: control, severity: low, tools: { deny: [y] } }
`);
  cache.plan(policy, { env: "prod" });
  cache.plan(policy, { env: "prod" });
  cache.plan(policy, { env: "dev" });
  assert.throws(() =>
    cache.plan(policy, { env: "prod" }, { selector: "basic", weights: new Map([["a", 1]]) }),
  );
  const text = await m.registry.metrics();
  assert.match(text, /^adapt_plans_total\{selector="basic"\} 2$/m);
  assert.match(text, /^adapt_selected_rules_total 3$/m);
  assert.match(text, /^adapt_selection_failures_total 1$/m);
});
