import type { Dimension } from "../../policy/pack-types.js";
import type { RuleTally, ScenarioTally } from "./aggregate.js";
import type { TrialResult } from "./report.js";

/** A kept trial and the dimension of its scenario. */
export interface KeptTrial {
  trial: TrialResult;
  dimension: Dimension;
}

/** What a report is built from: the same shape for one run and for merged shards. */
export interface SoakTotals {
  ran: number;
  passes: number;
  fails: number;
  infra: number;
  critical: number;
  dimensions: Record<Dimension, { pass: number; fail: number }>;
  scenarios: ScenarioTally[];
  rules: RuleTally[];
  /** The kept sample, ascending by index. */
  kept: KeptTrial[];
}
