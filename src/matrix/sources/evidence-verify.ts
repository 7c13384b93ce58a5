import type { JsonKind } from "./json-kind.js";
import { expectField, expectObject } from "./shape.js";

const WHAT = "an `assay evidence verify --json` result";

/**
 * `assay evidence verify --json` (src/cli/actions/evidence-verify.ts): `{valid: true, bundle_id,
 * run_id, event_count, ...}`, or `{valid: false, code, class, message, ...}` naming the failure.
 */
export const evidenceVerify: JsonKind = {
  what: WHAT,
  judge(doc, at) {
    const obj = expectObject(doc, at, WHAT);
    if (expectField(obj, "valid", "boolean", at, WHAT) === true) {
      expectField(obj, "bundle_id", "string", at, WHAT);
      expectField(obj, "run_id", "string", at, WHAT);
      expectField(obj, "event_count", "integer", at, WHAT);
    } else {
      expectField(obj, "code", "string", at, WHAT);
      expectField(obj, "class", "string", at, WHAT);
      expectField(obj, "message", "string", at, WHAT);
    }
    return { data: obj, time: null };
  },
};
