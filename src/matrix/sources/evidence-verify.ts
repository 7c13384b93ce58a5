import { schemaValidator } from "../../lib/schema-validator.js";
import { schemaFault } from "./fault.js";
import type { JsonKind } from "./json-kind.js";

const WHAT = "an `assay evidence verify --json` result";

/**
 * `assay evidence verify --json` (src/cli/actions/evidence-verify.ts,
 * schemas/evidence-verify-result.schema.json): `{valid: true, bundle_id, run_id, event_count, ...}`,
 * or `{valid: false, code, class, message, ...}` naming the failure.
 */
export const evidenceVerify: JsonKind = {
  what: WHAT,
  judge(doc, at) {
    const validate = schemaValidator("evidence-verify-result");
    if (!validate(doc)) throw schemaFault(validate.errors, at, WHAT);
    return { data: doc as Record<string, unknown>, time: null };
  },
};
