import { schemaValidator } from "../../lib/schema-validator.js";
import { schemaFault } from "./fault.js";
import type { JsonKind } from "./json-kind.js";
import { timeAt } from "./timestamp.js";

/**
 * A soak-report-v1 (`assay sim soak`, and `assay sim merge`'s merged reports, which keep the
 * schema): its time is when the run started (a merge: its earliest shard's start).
 */
export const soakReport: JsonKind = {
  what: "a soak-report-v1",
  judge(doc, at) {
    const validate = schemaValidator<{ run: { started_at_utc: string } }>("soak-report-v1");
    if (!validate(doc)) throw schemaFault(validate.errors, at, this.what);
    return {
      data: doc as unknown as Record<string, unknown>,
      time: {
        timestamp: timeAt(doc.run.started_at_utc, at, "/run/started_at_utc"),
        source: "run.started_at_utc",
      },
    };
  },
};
