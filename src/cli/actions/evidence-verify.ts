import { verifyBundle } from "../../evidence/verify-bundle.js";
import { EXIT } from "../../lib/errors.js";
import { printJson } from "../io.js";

/** `assay evidence verify`: 0 valid, 1 invalid (a finding), 2 unreadable. */
export async function verify(bundle: string, opts: { json?: boolean }): Promise<number> {
  const result = await verifyBundle(bundle);
  if (opts.json) {
    if (result.valid) printJson(result);
    else printJson({ valid: false, ...result.failure });
  } else if (result.valid) {
    process.stdout.write(
      `valid: ${bundle}: ${result.event_count} events, run ${result.run_id}, bundle ${result.bundle_id}\n`,
    );
  } else {
    const f = result.failure;
    process.stdout.write(
      `invalid: ${bundle}: ${f.class}/${f.code}: ${f.message}${f.where ? ` (${f.where})` : ""}\n`,
    );
  }
  return result.valid ? EXIT.ok : EXIT.finding;
}
