import { AssayError, type Diagnostic } from "../../lib/errors.js";
import type { CompiledPolicy } from "../../policy/ir.js";
import { closest } from "../../policy/suggest.js";
import { compileExpectation, type Expectation } from "./expect.js";
import type { ParsedTarget } from "./parse.js";

/** How far a step's probabilities may sum from 1. */
export const PROBABILITY_TOLERANCE = 1e-9;

/**
 * Scenario and canary ids are one namespace: reports, JUnit test cases and trial rows name
 * them, so two things with one id would be told apart by position only.
 */
export function checkIds(target: ParsedTarget, out: Diagnostic[]): void {
  const owners = new Map<string, string>();
  const visit = (list: readonly { id: string }[], key: "scenarios" | "canaries") => {
    list.forEach((item, i) => {
      const here = `${key}[${i}]`;
      const first = owners.get(item.id);
      if (first !== undefined) {
        out.push({
          code: "bundle_duplicate_id",
          message: `${here}.id: \`${item.id}\` is already the id of ${first}`,
          where: target.locate(`/${key}/${i}/id`),
        });
      } else owners.set(item.id, here);
    });
  };
  visit(target.doc.scenarios, "scenarios");
  visit(target.doc.canaries, "canaries");
}

/** Every step of every script picks exactly one choice: its probabilities sum to 1. */
export function checkScripts(target: ParsedTarget, out: Diagnostic[]): void {
  target.doc.scenarios.forEach((scenario, i) => {
    scenario.script?.forEach((step, k) => {
      const sum = step.choices.reduce((acc, c) => acc + c.p, 0);
      // Written so that a NaN sum fails too.
      if (!(Math.abs(sum - 1) <= PROBABILITY_TOLERANCE)) {
        out.push({
          code: "bundle_bad_probability",
          message: `scenarios[${i}].script[${k}].choices: probabilities sum to ${sum}, not 1`,
          where: target.locate(`/scenarios/${i}/script/${k}/choices`),
        });
      }
    });
  });
}

/** Compile every scenario's expectations once; the map holds every scenario id, in order. */
export function compileExpectations(
  target: ParsedTarget,
  out: Diagnostic[],
): Map<string, readonly Expectation[]> {
  const compiled = new Map<string, readonly Expectation[]>();
  target.doc.scenarios.forEach((scenario, i) => {
    const programs: Expectation[] = [];
    (scenario.expect ?? []).forEach((source, k) => {
      const pointer = `/scenarios/${i}/expect/${k}`;
      try {
        programs.push(compileExpectation(source, target.locate(pointer)));
      } catch (err) {
        if (!(err instanceof AssayError)) throw err;
        out.push({
          code: err.code,
          message: `scenarios[${i}].expect[${k}]: ${err.message}`,
          where: err.where,
        });
      }
    });
    if (!compiled.has(scenario.id)) compiled.set(scenario.id, Object.freeze(programs));
  });
  return compiled;
}

/**
 * A flagged canary's rules must be rules of the compiled policy, named as decisions name them
 * (`pack/rule` only where packs share an id), or a pack's defaults; a clean canary names none.
 */
export function checkCanaryRules(
  target: ParsedTarget,
  policy: CompiledPolicy | undefined,
  out: Diagnostic[],
): void {
  const known = policy ? [...policy.ruleById.keys(), ...policy.packs.map((p) => p.defaultsRuleId)] : [];
  const knownSet = new Set(known);
  target.doc.canaries.forEach((canary, j) => {
    if (canary.expect === "clean") {
      if (canary.rules !== undefined) {
        out.push({
          code: "bundle_schema",
          message: `canaries[${j}].rules: a clean canary names no rules (it must not be flagged at all)`,
          where: target.locate(`/canaries/${j}/rules`),
        });
      }
      return;
    }
    // Without a compiled policy (its packs failed and say so) there is nothing to check against.
    if (!policy) return;
    (canary.rules ?? []).forEach((id, r) => {
      if (knownSet.has(id)) return;
      const hint = closest(id, known);
      out.push({
        code: "bundle_unknown_rule",
        message: `canaries[${j}].rules[${r}]: no rule \`${id}\` in the bundle's packs${hint ? `; did you mean \`${hint}\`?` : ""}`,
        where: target.locate(`/canaries/${j}/rules/${r}`),
      });
    });
  });
}
