import { parse } from "yaml";
import type { ReasonCode } from "../../src/policy/decision.js";
import { fixtureText } from "./helpers.js";

/** A violation as the cases state it: [rule_id, path, reason_code]. */
export type ViolationRow = [string | null, string, ReasonCode];

/** One case of test/fixtures/policy/decide-cases.yaml (its header says what the fields mean). */
export interface DecideCase {
  name: string;
  packs: string[];
  call: unknown;
  context?: Record<string, unknown>;
  expect: {
    effect: "allow" | "warn" | "deny";
    rule_id: string | null;
    reason_code: ReasonCode;
    message_includes?: string;
    violations?: ViolationRow[];
  };
}

/** The shared decision cases, which decide(), the gate and checkTrace() must all agree with. */
export function decideCases(): DecideCase[] {
  return (parse(fixtureText("decide-cases.yaml")) as { cases: DecideCase[] }).cases;
}
