import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { buildPlan, toRulePlan, validatePlan } from "../../src/adapt/plan.js";
import { PlanCache } from "../../src/adapt/plan-cache.js";
import { selectRules } from "../../src/adapt/select.js";
import { parseWeights } from "../../src/adapt/weights.js";
import { decide } from "../../src/policy/decide.js";
import { contextDigest } from "../../src/policy/rule-plan.js";
import { PolicySession } from "../../src/policy/session.js";
import { assayError, policyFromYaml } from "../policy/helpers.js";

const PACK = `
id: t
version: "1"
defaults: allow
predicates:
  prod: 'has(context.env) && context.env == "prod"'
  big: 'has(args.n) && args.n > 10'
  hist: 'size(context) > 0'
rules:
  - { id: b, dimension: control, severity: low, cost: 2, when: [prod], tools: { deny: [exec] } }
  - { id: a, dimension: control, severity: low, cost: 2, when: [prod, big], tools: { deny: [write] } }
  - { id: c, dimension: control, severity: low, when: [big, prod], tools: { deny: [read] } }
  - { id: d, dimension: control, severity: low, cost: 0, tools: { deny: [rm] } }
  - { id: e, dimension: control, severity: low, when: ['context.tier > 1'], tools: { deny: [x] } }
  - { id: f, dimension: control, severity: low, when: [hist], tools: { deny: [y] } }
`;
const policy = policyFromYaml(PACK);

describe("selectRules", () => {
  test("a false context-only entry skips; a call entry before it keeps the rule active", () => {
    const s = selectRules(policy, { env: "dev" });
    assert.deepEqual(
      [...s.skipped],
      [
        ["b", ["prod"]],
        ["a", ["prod"]],
      ],
    );
    assert.deepEqual(s.active, ["c", "d", "e", "f"]);
    assert.deepEqual(s.reason.get("c"), ["call:big", "false:prod"]);
    assert.deepEqual(s.reason.get("d"), ["always"]);
    // Fails on this context (no `tier`): fail closed, left to each decision.
    assert.deepEqual(s.reason.get("e"), ["error:context.tier > 1"]);
    // Reads the whole context, so it may read `history`: left to each decision.
    assert.deepEqual(s.reason.get("f"), ["call:hist"]);
  });

  test("true context-only entries are the reason", () => {
    const s = selectRules(policy, { env: "prod", tier: 2 });
    assert.deepEqual(s.reason.get("a"), ["prod", "call:big"]);
    assert.deepEqual(s.reason.get("e"), ["context.tier > 1"]);
    assert.equal(s.skipped.size, 0);
  });
});

describe("selectRules, context-only rules", () => {
  test("a skipped rule is named by every false entry; an entry failing on the context keeps it active", () => {
    const p = policyFromYaml(`
id: s
version: "1"
defaults: allow
predicates:
  p1: 'context.a == 1'
  p2: 'context.b == 2'
  p3: 'context.c == 3'
  boom: 'context.missing.deeper == 1'
rules:
  - { id: r1, dimension: control, severity: low, when: [p1, p2, p3], tools: { deny: [x] } }
  - { id: r2, dimension: control, severity: low, when: [p1, p3], tools: { deny: [x] } }
  - { id: r3, dimension: control, severity: low, when: [p2, boom], tools: { deny: [x] } }
  - { id: r4, dimension: control, severity: low, when: [p2], tools: { deny: [x] } }
`);
    const sel = selectRules(p, { a: 0, b: 2, c: 0 });
    assert.deepEqual(sel.skipped.get("r1"), ["p1", "p3"]);
    assert.deepEqual(sel.skipped.get("r2"), ["p1", "p3"]);
    assert.deepEqual(sel.active, ["r3", "r4"]);
    assert.deepEqual(sel.reason.get("r3"), ["p2", "error:boom"]);
    assert.deepEqual(sel.reason.get("r4"), ["p2"]);
    // The same answers the second time (the per-policy shape is reused).
    assert.deepEqual(selectRules(p, { a: 0, b: 2, c: 0 }), sel);
  });
});

describe("buildPlan", () => {
  test("order is (cost, rule id); weights override costs; history is not part of the context", () => {
    const plan = buildPlan(policy, { env: "prod", tier: 2, history: ["read"] });
    assert.deepEqual(plan.order, ["d", "c", "e", "f", "a", "b"]);
    assert.equal(plan.cost_sum, 7);
    assert.equal(plan.context_digest, contextDigest({ env: "prod", tier: 2 }));
    validatePlan(plan);
    const weighted = buildPlan(
      policy,
      { env: "prod" },
      { selector: "weighted", weights: new Map([["d", 9]]) },
    );
    assert.equal(weighted.order.at(-1), "d");
    assert.equal(weighted.cost.d, 9);
    assert.equal(weighted.selector, "weighted");
  });

  test("a plan is the same whatever order the context's keys come in", () => {
    assert.deepEqual(
      buildPlan(policy, { env: "prod", tier: 2 }),
      buildPlan(policy, { tier: 2, env: "prod" }),
    );
  });

  test("several packs: policy_id lists the pack ids", () => {
    const two = policyFromYaml(PACK, PACK.replace("id: t", "id: u"));
    assert.deepEqual(buildPlan(two, {}).policy_id, ["t", "u"]);
  });
});

describe("deciding with a plan", () => {
  test("a plan built for one context is refused for another, and for another policy", () => {
    const plan = toRulePlan(buildPlan(policy, { env: "prod" }));
    const call = { tool: "exec", arguments: {} };
    assert.equal(decide(policy, call, { env: "prod" }, { plan }).rule_id, "b");
    // history is not part of the planning context: the same plan serves every call of a session.
    assert.equal(decide(policy, call, { env: "prod", history: ["read"] }, { plan }).effect, "deny");
    assayError(() => decide(policy, call, { env: "dev" }, { plan }), "adapt_plan_mismatch");
    assayError(() => new PolicySession(policy).decide(call, { env: "dev" }, { plan }), "adapt_plan_mismatch");
    const other = policyFromYaml(PACK.replace("id: t", "id: v"));
    assayError(() => decide(other, call, { env: "prod" }, { plan }), "adapt_plan_mismatch");
    assayError(
      () => decide(policy, call, { env: "prod" }, { plan: { ...plan, order: ["zz"] } }),
      "adapt_plan_mismatch",
    );
  });
});

describe("a plan is checked, not trusted", () => {
  test("a plan leaving out a rule that applies, a context that is not plain JSON, a frozen plan", () => {
    const p = policyFromYaml(`
id: g
version: "1"
defaults: allow
predicates:
  big: 'size(context.m) > 0'
rules:
  - { id: always, dimension: control, severity: low, tools: { deny: [exec] } }
  - { id: gated, dimension: control, severity: low, when: [big], tools: { deny: [rm] } }
`);
    // Right digests, an order that drops the rule that always applies: refused, not obeyed.
    const forged = { ir_digest: p.digest, context_digest: contextDigest({}), order: [] };
    assert.equal(decide(p, { tool: "exec", arguments: {} }, {}).effect, "deny");
    assayError(() => decide(p, { tool: "exec", arguments: {} }, {}, { plan: forged }), "adapt_plan_mismatch");
    // A Map is `{}` in JSON but not to CEL: no plan for such a context.
    assayError(() => buildPlan(p, { m: new Map([["k", 1]]) }), "adapt_plan_mismatch");
    assayError(() => contextDigest({ n: 10n }), "adapt_plan_mismatch");
    const plan = toRulePlan(buildPlan(p, { m: [] }));
    assert.ok(Object.isFrozen(plan) && Object.isFrozen(plan.order));
    assert.deepEqual(plan.order, ["always"]);
    assert.equal(decide(p, { tool: "rm", arguments: {} }, { m: [] }, { plan }).effect, "allow");
  });
});

describe("contexts with one digest that CEL tells apart", () => {
  // RFC 8785 sorts members and writes -0 as 0; CEL sees a map's own order and divides by -0.
  const p = policyFromYaml(`
id: k
version: "1"
defaults: allow
rules:
  - { id: negative, dimension: control, severity: low, when: ["1.0 / context.x < 0.0"], tools: { deny: [exec] } }
  - { id: prod-first, dimension: control, severity: low, when: ["context.env.map(k, k)[0] == 'prod'"], tools: { deny: [shell] } }
`);
  const a = { x: 0, env: { dev: 1, prod: 1 } };
  const cases = [
    ["exec", { x: -0, env: { dev: 1, prod: 1 } }],
    ["shell", { x: 0, env: { prod: 1, dev: 1 } }],
  ] as const;

  test("a plan checked for one is checked again for the other, not reused", () => {
    for (const [tool, b] of cases) {
      assert.equal(contextDigest(b), contextDigest(a), "one digest");
      const call = { tool, arguments: {} };
      assert.equal(decide(p, call, b).effect, "deny", `${tool}: without a plan`);
      const plan = toRulePlan(buildPlan(p, a));
      assert.deepEqual(plan.order, [], "both rules skipped in the context the plan was built for");
      assert.equal(decide(p, call, a, { plan }).effect, "allow");
      // The same plan object, already checked for `a`: refused for `b`, never obeyed.
      assayError(() => decide(p, call, b, { plan }), "adapt_plan_mismatch");
      assert.equal(decide(p, call, a, { plan }).effect, "allow", "and still good for `a`");
    }
  });

  test("the plan cache builds each its own plan", () => {
    for (const [tool, b] of cases) {
      const cache = new PlanCache();
      const forA = cache.plan(p, a);
      const forB = cache.plan(p, b);
      assert.notEqual(forB, forA);
      const call = { tool, arguments: {} };
      assert.equal(decide(p, call, b, { plan: toRulePlan(forB) }).effect, "deny");
      assert.equal(decide(p, call, a, { plan: toRulePlan(forA) }).effect, "allow");
    }
  });
});

describe("weights", () => {
  test("rule_id: weight, with positions and a did-you-mean for an unknown rule", () => {
    assert.deepEqual(
      [...parseWeights("a: 3\nd: 0\n", "w.yaml", policy)],
      [
        ["a", 3],
        ["d", 0],
      ],
    );
    const e = assayError(() => parseWeights("a: 1\nbb: 2\n", "w.yaml", policy), "adapt_weights_invalid");
    assert.match(e.message, /`bb`; did you mean `b`\?/);
    assert.match(e.where ?? "", /^w\.yaml:2:/);
    assayError(() => parseWeights("a: -1\n", "w.yaml", policy), "adapt_weights_invalid");
    assayError(() => parseWeights("a: 1.5\n", "w.yaml", policy), "adapt_weights_invalid");
    assayError(() => parseWeights("- a\n", "w.yaml", policy), "adapt_weights_invalid");
  });
});

describe("PlanCache", () => {
  test("hits, misses and least-recently-used eviction", () => {
    const cache = new PlanCache(2);
    const p1 = cache.plan(policy, { env: "prod" });
    assert.equal(cache.plan(policy, { env: "prod", history: ["x"] }), p1);
    cache.plan(policy, { env: "dev" });
    cache.plan(policy, { env: "prod" }); // makes `dev` the oldest
    cache.plan(policy, { env: "qa" }); // evicts `dev`
    assert.equal(cache.size, 2);
    assert.equal(cache.plan(policy, { env: "prod" }), p1);
    cache.plan(policy, { env: "dev" });
    assert.deepEqual([cache.hits, cache.misses], [3, 4]);
    const w = cache.plan(policy, { env: "prod" }, { selector: "weighted", weights: new Map([["a", 1]]) });
    assert.notEqual(w, p1);
    assert.equal(new PlanCache().capacity, 1024);
  });
});
