import type { CompiledPolicy } from "../policy/ir.js";
import { contextDigest, contextText } from "../policy/rule-plan.js";
import { type AdaptMetrics, NO_ADAPT_METRICS } from "./metrics.js";
import { type BuildPlanOptions, buildPlan, type Plan, weightsDigest } from "./plan.js";

/** The default number of plans a cache holds. */
export const DEFAULT_PLAN_CACHE_SIZE = 1024;

/**
 * Plans by (IR digest, context digest, selector, weights digest), least recently used evicted
 * first. A plan is a pure function of that key, so a hit is always the plan a build would give.
 */
export class PlanCache {
  private readonly plans = new Map<string, Plan>();
  private hitCount = 0;
  private missCount = 0;

  constructor(
    readonly capacity: number = DEFAULT_PLAN_CACHE_SIZE,
    private readonly metrics: AdaptMetrics = NO_ADAPT_METRICS,
  ) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new RangeError(`plan cache capacity must be a positive integer, not ${capacity}`);
    }
  }

  /** The plan for (policy, context, options), built on a miss. */
  plan(policy: CompiledPolicy, context: Record<string, unknown>, opts: BuildPlanOptions = {}): Plan {
    // The context's text as well as its digest: contexts CEL tells apart may share a digest.
    const key = `${policy.digest} ${contextDigest(context)} ${opts.selector ?? "basic"} ${weightsDigest(opts.weights)} ${contextText(context)}`;
    const hit = this.plans.get(key);
    if (hit) {
      this.hitCount++;
      // Map keeps insertion order: re-inserting makes this the most recently used entry.
      this.plans.delete(key);
      this.plans.set(key, hit);
      return hit;
    }
    this.missCount++;
    const t0 = process.hrtime.bigint();
    let built: Plan;
    try {
      built = buildPlan(policy, context, opts);
    } catch (err) {
      this.metrics.selectionFailed();
      throw err;
    }
    this.metrics.planBuilt(
      built.selector,
      built.active_rules.length,
      Number(process.hrtime.bigint() - t0) / 1e9,
    );
    this.plans.set(key, built);
    if (this.plans.size > this.capacity) {
      const oldest = this.plans.keys().next().value as string;
      this.plans.delete(oldest);
    }
    return built;
  }

  get hits(): number {
    return this.hitCount;
  }
  get misses(): number {
    return this.missCount;
  }
  get size(): number {
    return this.plans.size;
  }
}

/** The process's plan cache (the gate builds its plan through it). */
export const sharedPlanCache = new PlanCache();
