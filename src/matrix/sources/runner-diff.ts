import { schemaValidator } from "../../lib/schema-validator.js";
import { schemaFault } from "./fault.js";
import type { JsonKind } from "./json-kind.js";

/** `assay runner diff --json`'s `assay.runner.capability_diff.v0`: a pure projection, with no time. */
export const runnerDiff: JsonKind = {
  what: "an assay.runner.capability_diff.v0",
  judge(doc, at) {
    const validate = schemaValidator("runner-capability-diff");
    if (!validate(doc)) throw schemaFault(validate.errors, at, this.what);
    return { data: doc as Record<string, unknown>, time: null };
  },
};
