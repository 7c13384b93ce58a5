import type { PackDoc, RuleDoc } from "./pack-types.js";

/**
 * The pack with every default written out, so two packs that mean the same thing hash the same.
 * This is what the policy digest is computed over.
 */
export function normalizePack(doc: PackDoc): PackDoc {
  return {
    ...doc,
    defaults: doc.defaults ?? "deny",
    predicates: doc.predicates ?? {},
    rules: doc.rules.map(normalizeRule),
  };
}

function normalizeRule(rule: RuleDoc): RuleDoc {
  return {
    ...rule,
    effect: rule.effect ?? "deny",
    when: rule.when ?? [],
    cost: rule.cost ?? 1,
    mappings: rule.mappings ?? [],
    ...(rule.args ? { args: normalizeArgs(rule.args) } : {}),
  };
}

// `json_strings: as_sent` is the default; it is dropped rather than written out, so that packs
// written before the option existed keep their digests.
function normalizeArgs(args: NonNullable<RuleDoc["args"]>): NonNullable<RuleDoc["args"]> {
  if (args.json_strings !== "as_sent") return args;
  const { json_strings: _, ...rest } = args;
  return rest;
}
