import { schemaValidator } from "../../lib/schema-validator.js";
import { schemaFault } from "./fault.js";
import type { JsonKind } from "./json-kind.js";
import { timeAt } from "./timestamp.js";

/** What `tsx scripts/conformance.ts --json` writes (assay.conformance.v1): timed when it was written. */
export const conformance: JsonKind = {
  what: "an assay.conformance.v1",
  judge(doc, at) {
    const validate = schemaValidator<{ recorded_at_utc: string }>("conformance-report");
    if (!validate(doc)) throw schemaFault(validate.errors, at, this.what);
    return {
      data: doc as unknown as Record<string, unknown>,
      time: { timestamp: timeAt(doc.recorded_at_utc, at, "/recorded_at_utc"), source: "recorded_at_utc" },
    };
  },
};
