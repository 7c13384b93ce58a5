import { schemaValidator } from "../../lib/schema-validator.js";
import { schemaFault } from "./fault.js";
import type { JsonKind } from "./json-kind.js";

/**
 * A runner capture as `assay runner capture --json` reports it: its observation-health document.
 * A capture itself records no time (RUNNER_ARCHIVE_NO_TIME), so recording that report with
 * `assay matrix record --kind runner_archive` is how a capture joins an evidence campaign.
 * Criteria see it as `observation_health`, where they find it in a whole capture too.
 */
export const runnerHealth: JsonKind = {
  what: "an assay.runner.observation_health.v0",
  judge(doc, at) {
    const validate = schemaValidator("runner-observation-health");
    if (!validate(doc)) throw schemaFault(validate.errors, at, this.what);
    return { data: { observation_health: doc }, time: null };
  },
};
