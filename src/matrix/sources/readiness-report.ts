import { schemaValidator } from "../../lib/schema-validator.js";
import { schemaFault } from "./fault.js";
import type { JsonKind } from "./json-kind.js";
import { timeAt } from "./timestamp.js";

interface Readiness {
  runs: { run_id: string; started_at_utc: string }[];
}

/**
 * A soak-readiness-v1 (`assay sim readiness`). It records no time of its own (it is deterministic:
 * the same reports give the same bytes), so its time is the newest start among the runs it judged:
 * the freshest evidence behind the verdict.
 */
export const readinessReport: JsonKind = {
  what: "a soak-readiness-v1",
  judge(doc, at) {
    const validate = schemaValidator<Readiness>("soak-readiness");
    if (!validate(doc)) throw schemaFault(validate.errors, at, this.what);
    const data = doc as unknown as Record<string, unknown>;
    let newest: { i: number; utc: string; ms: number } | undefined;
    doc.runs.forEach((run, i) => {
      const utc = timeAt(run.started_at_utc, at, `/runs/${i}/started_at_utc`);
      const ms = Date.parse(utc);
      if (newest === undefined || ms > newest.ms) newest = { i, utc, ms };
    });
    if (newest === undefined)
      return {
        data,
        time: { timestamp: null, source: "judged no runs (`runs` is empty), so records no time" },
      };
    return {
      data,
      time: {
        timestamp: newest.utc,
        source: `runs[${newest.i}].started_at_utc, the newest start of the ${doc.runs.length} runs it judged`,
      },
    };
  },
};
