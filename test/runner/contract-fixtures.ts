import { readFileSync } from "node:fs";
import type { CapabilitySurface, CorrelationReport, ObservationHealth } from "../../src/runner/contract.js";

const DIR = new URL("../fixtures/runner/contract/", import.meta.url);

/** A golden's exact text (test/fixtures/runner/contract/, verbatim upstream copies). */
export function goldenText(name: string): string {
  return readFileSync(new URL(`${name}.golden`, DIR), "utf8");
}

/** The S5 evidence set (health, surface, correlation) of the goldens, fresh objects on every call. */
export function s5(): {
  health: ObservationHealth;
  surface: CapabilitySurface;
  correlation: CorrelationReport;
} {
  return {
    health: JSON.parse(goldenText("observation-health-openai-agents-kernel-policy-v0.json")),
    surface: JSON.parse(goldenText("capability-surface-openai-agents-kernel-policy-v0.json")),
    correlation: JSON.parse(goldenText("correlation-report-openai-agents-kernel-policy-v0.json")),
  };
}

export const S5_RUN_ID = "run_openai_agents_kernel_policy_determinism";
