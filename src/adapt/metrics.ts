import { Counter, Histogram, Registry } from "prom-client";

/**
 * What the planner reports about itself: one call per plan built (cache misses; a cached plan is
 * not built again), one per selection that failed. Injected, never global (STYLE.md §6), so the
 * library costs nothing without it and the decision service can hand in its own registry.
 */
export interface AdaptMetrics {
  planBuilt(selector: string, activeRules: number, seconds: number): void;
  selectionFailed(): void;
}

/** Reports nothing. */
export const NO_ADAPT_METRICS: AdaptMetrics = Object.freeze({
  planBuilt: () => {},
  selectionFailed: () => {},
});

// Selection takes microseconds to a few milliseconds (bench:adapt): buckets from 10 µs to 50 ms.
const LATENCY_BUCKETS = [
  0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05,
];

/**
 * The planner's Prometheus metrics on `registry` (a fresh one by default):
 * `adapt_plans_total{selector}`, `adapt_selected_rules_total` (active rules over all plans built),
 * `adapt_selection_failures_total` and `adapt_selection_latency_seconds`.
 */
export function promAdaptMetrics(registry: Registry = new Registry()): AdaptMetrics & { registry: Registry } {
  const plans = new Counter({
    name: "adapt_plans_total",
    help: "Plans built by the adaptive rule planner, by selector",
    labelNames: ["selector"] as const,
    registers: [registry],
  });
  const selected = new Counter({
    name: "adapt_selected_rules_total",
    help: "Rules the planner selected as active, summed over the plans it built",
    registers: [registry],
  });
  const failures = new Counter({
    name: "adapt_selection_failures_total",
    help: "Rule selections that failed (the caller decided without a plan or refused the request)",
    registers: [registry],
  });
  const latency = new Histogram({
    name: "adapt_selection_latency_seconds",
    help: "Time to select and order the rules of one plan",
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  return {
    registry,
    planBuilt(selector, activeRules, seconds) {
      plans.inc({ selector });
      selected.inc(activeRules);
      latency.observe(seconds);
    },
    selectionFailed() {
      failures.inc();
    },
  };
}

/**
 * The fields a log line about a plan carries: the policy digest, the context's digest (never the
 * context itself: it can hold anything the caller knows about a user or a supplier) and the
 * active rule ids.
 */
export function planLogFields(plan: {
  ir_digest: string;
  context_digest: string;
  selector: string;
  active_rules: readonly string[];
}): { policy_digest: string; context_digest: string; selector: string; active_rules: string[] } {
  return {
    policy_digest: plan.ir_digest,
    context_digest: plan.context_digest,
    selector: plan.selector,
    active_rules: [...plan.active_rules],
  };
}
