import { refuseOverlappingOutputs } from "../../lib/output-paths.js";
import type { GateCliOptions } from "../mcp-wrap.js";

/**
 * A gate appends its records to `--decision-log`: on a pack, the pins or the context it would
 * break them. Refused (exit 2) before the gate starts, or its server does.
 */
export function refuseDecisionLogOverInputs(opts: GateCliOptions): void {
  refuseOverlappingOutputs(
    [{ path: opts.decisionLog, option: "--decision-log" }],
    [
      ...opts.policy.map((path) => ({ path, option: "--policy" })),
      { path: opts.pins, option: "--pins" },
      { path: opts.context, option: "--context" },
    ],
  );
}
