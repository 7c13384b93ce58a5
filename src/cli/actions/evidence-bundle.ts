import { writeBundle } from "../../evidence/bundle-writer.js";
import { EXIT } from "../../lib/errors.js";
import { refuseOverlappingOutputs } from "../../lib/output-paths.js";
import { printJson } from "../io.js";

export interface BundleCli {
  events: string;
  out: string;
  runId?: string;
  json?: boolean;
}

/** `assay evidence bundle`: CloudEvents NDJSON (a decision log, soak trials, ...) as a deterministic evidence bundle. */
export async function bundle(opts: BundleCli): Promise<number> {
  refuseOverlappingOutputs(
    [{ path: opts.out, option: "--out" }],
    [{ path: opts.events, option: "--events" }],
  );
  const summary = await writeBundle({
    events: opts.events,
    out: opts.out,
    ...(opts.runId === undefined ? {} : { runId: opts.runId }),
  });
  if (opts.json) printJson(summary);
  else
    process.stdout.write(
      `wrote ${opts.out}: ${summary.event_count} events, run ${summary.run_id}, bundle ${summary.bundle_id}\n`,
    );
  return EXIT.ok;
}
