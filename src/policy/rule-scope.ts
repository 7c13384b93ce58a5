import type { CompiledRule } from "./ir.js";
import { foldedSpellings, matchAnyFolded, matchAnyToolPattern } from "./tool-pattern.js";

/**
 * Must a decision about `tool` consult `rule`? Its scope matches the name, or, for a rule that
 * denies tools, a deny pattern matches the name's folded spelling (`Bash`, `runCommand`).
 */
export function ruleConsultedFor(
  rule: CompiledRule,
  tool: string,
  folded: readonly string[] = foldedSpellings(tool),
): boolean {
  if (rule.scope === null || matchAnyToolPattern(rule.scope, tool) !== undefined) return true;
  return rule.kind === "tools" && matchAnyFolded(rule.denyFolded, folded) !== undefined;
}
