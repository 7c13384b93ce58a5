import { schemaValidator } from "../lib/schema-validator.js";
import { ALGORITHMS, type BundleManifest, EVENTS_MEMBER, PRODUCER } from "./bundle-format.js";

const validateManifest = schemaValidator("evidence-manifest");

/** The first problem of a manifest against schemas/evidence-manifest.schema.json, or undefined. */
export function manifestProblem(value: unknown): { pointer: string; message: string } | undefined {
  if (validateManifest(value)) return undefined;
  const e = validateManifest.errors?.[0];
  return { pointer: e?.instancePath || "/", message: e?.message ?? "is invalid" };
}

/** The manifest of a bundle; `bundle_id` is the run root. */
export function buildManifest(args: {
  runId: string;
  eventCount: number;
  runRoot: string;
  eventsSha256: string;
  eventsBytes: number;
}): BundleManifest {
  return {
    schema_version: 1,
    bundle_id: args.runRoot,
    producer: { name: PRODUCER.name, version: PRODUCER.version },
    run_id: args.runId,
    event_count: args.eventCount,
    run_root: args.runRoot,
    algorithms: { ...ALGORITHMS },
    files: { [EVENTS_MEMBER]: { path: EVENTS_MEMBER, sha256: args.eventsSha256, bytes: args.eventsBytes } },
  };
}
