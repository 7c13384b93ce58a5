import { verifyBundle } from "../../evidence/verify-bundle.js";
import { EXIT } from "../../lib/errors.js";
import { printCheckedJson } from "../checked-json.js";

/**
 * `assay evidence verify`: 0 valid, 1 invalid (a finding), 2 unreadable. Warnings (cosmetic
 * header differences) never change the exit code: `--json` lists them in `warnings`, the human
 * form prints one line each on stderr.
 */
export async function verify(bundle: string, opts: { json?: boolean }): Promise<number> {
  const result = await verifyBundle(bundle);
  if (opts.json) {
    const out = result.valid ? result : { valid: false, ...result.failure, warnings: result.warnings };
    printCheckedJson("evidence-verify-result", out, "the verification result");
  } else {
    for (const w of result.warnings)
      process.stderr.write(
        `assay: warning: ${bundle}: ${w.code}: ${w.message}${w.where ? ` (${w.where})` : ""}\n`,
      );
    if (result.valid) {
      process.stdout.write(
        `valid: ${bundle}: ${result.event_count} events, run ${result.run_id}, bundle ${result.bundle_id}\n`,
      );
    } else {
      const f = result.failure;
      process.stdout.write(
        `invalid: ${bundle}: ${f.class}/${f.code}: ${f.message}${f.where ? ` (${f.where})` : ""}\n`,
      );
    }
  }
  return result.valid ? EXIT.ok : EXIT.finding;
}
