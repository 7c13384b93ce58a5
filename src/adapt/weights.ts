import { AssayError } from "../lib/errors.js";
import { parseStrictYaml } from "../lib/strict-yaml.js";
import type { CompiledPolicy } from "../policy/ir.js";
import { closest } from "../policy/suggest.js";
import type { Weights } from "./select.js";

/**
 * Read a weights file (`rule_id: weight`, YAML or JSON) for the `weighted` selector. Every key must
 * be a rule of `policy` (as decisions report its id) and every weight a non-negative integer;
 * otherwise `adapt_weights_invalid` at the entry's `file:line:col`, with a "did you mean" for an
 * unknown rule id.
 */
export function parseWeights(text: string, source: string, policy: CompiledPolicy): Weights {
  const doc = parseStrictYaml(text, source, "adapt_weights_invalid");
  const value = doc.value;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new AssayError("adapt_weights_invalid", "weights must be a map of `rule_id: weight`", {
      where: doc.at([]),
    });
  }
  const weights = new Map<string, number>();
  // Sorted so that the first problem reported does not depend on the file's key order.
  for (const [id, w] of Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  )) {
    if (!policy.ruleById.has(id)) {
      const hint = closest(id, policy.ruleById.keys());
      throw new AssayError(
        "adapt_weights_invalid",
        `unknown rule \`${id}\`${hint ? `; did you mean \`${hint}\`?` : ""}`,
        { where: doc.at([id]) },
      );
    }
    if (typeof w !== "number" || !Number.isSafeInteger(w) || w < 0) {
      throw new AssayError(
        "adapt_weights_invalid",
        `weight of \`${id}\` must be a non-negative integer, not \`${String(w)}\``,
        { where: doc.at([id]) },
      );
    }
    weights.set(id, w);
  }
  return weights;
}
