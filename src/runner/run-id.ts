import { createHash } from "node:crypto";
import { AssayError } from "../lib/errors.js";
import { RUN_ID_PATTERN } from "./contract.js";

/**
 * The run id of a capture: the one given, checked, or one derived from what defines the run (the
 * agent's command, the packs' policy digest, the MCP config's text and the shim), so that capturing the
 * same thing again gives the same id, the same scratch paths and so the same artifacts. Derived
 * ids have the generated form `run_` + 32 hex.
 */
export function runIdFor(given: string | undefined, defining: readonly unknown[]): string {
  if (given !== undefined) {
    if (!RUN_ID_PATTERN.test(given))
      throw new AssayError(
        "usage",
        `--run-id \`${given}\` must be non-empty and use only A-Z, a-z, 0-9, _ and -`,
      );
    return given;
  }
  const digest = createHash("sha256").update(JSON.stringify(defining)).digest("hex");
  return `run_${digest.slice(0, 32)}`;
}
