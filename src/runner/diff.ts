import { AssayError } from "../lib/errors.js";
import { schemaValidator } from "../lib/schema-validator.js";
import {
  type CapabilityDiff,
  type DiffStatus,
  type ObservationHealth,
  RUNNER_SCHEMA,
  type SetDelta,
  SURFACE_CATEGORIES,
  type SurfaceCategory,
} from "./contract.js";
import { healthIsClean } from "./health-bar.js";
import { byteSort, prettyJson } from "./serialize.js";

/**
 * One side of a diff: a capture's three evidence documents as read (unchecked JSON values), and
 * where each came from, named in input errors (default: its file name in a capture).
 */
export interface EvidenceSet {
  health: unknown;
  surface: unknown;
  correlation: unknown;
  where?: { health?: string; surface?: string; correlation?: string };
}

const IDEMPOTENT_NOTE = "capability_diff_idempotent: base and head evidence sets are identical";

const SCOPE: CapabilityDiff["scope"] = {
  projection: "surface_set",
  uses_raw_telemetry: false,
  uses_proof_pack: false,
  per_binding_capability_values: false,
};

/**
 * The capability diff of two evidence sets (contract §13): a pure projection of their surface
 * sets and binding ids, in the golden's key order. Where the contract's reference script exits
 * with no output (§14.7), this returns a document instead: a binding with no `tool_call_id`
 * makes the status `partial:correlation` (the binding is left out of `binding_ids`); a
 * `tool_call_id` repeated within one side, or policy decisions that changed in the surface with
 * no binding's outcome changing, make it `failed` with one `capability_diff_failed:` note (the
 * surface and binding sections are still filled in). Throws `input_invalid` (naming the file and
 * the JSON pointer) for a document that is not one: not an object, a wrong `schema`, an empty
 * `run_id`, run ids that disagree within a side, a category that is not a list of strings.
 */
export function capabilityDiff(base: EvidenceSet, head: EvidenceSet): CapabilityDiff {
  const b = readSide(base, "base");
  const h = readSide(head, "head");

  const surface = {} as Record<SurfaceCategory, SetDelta>;
  for (const c of SURFACE_CATEGORIES) surface[c] = setDelta(b.surface[c], h.surface[c]);
  const bindingIds = setDelta(b.ids.keys(), h.ids.keys());
  const changed: CapabilityDiff["policy_outcomes"]["changed"] = [];
  for (const id of bindingIds.unchanged) {
    // A repeated id has no one decision to compare (the diff is `failed` then anyway).
    if (b.repeated.has(id) || h.repeated.has(id)) continue;
    const was = b.ids.get(id) as string | null;
    const is = h.ids.get(id) as string | null;
    if (was !== is) changed.push({ tool_call_id: id, base: was, head: is });
  }

  const preconditions: CapabilityDiff["preconditions"] = {
    base_health_clean: b.healthClean,
    head_health_clean: h.healthClean,
    base_correlation_clean: b.correlationClean,
    head_correlation_clean: h.correlationClean,
    stable_tool_call_ids_required: true,
    stable_tool_call_ids_present: b.ids.size > 0 && h.ids.size > 0,
  };

  const failure = failureOf(b, h, bindingIds, surface.policy_decisions, changed.length);
  let status: DiffStatus;
  if (failure !== undefined) status = "failed";
  else if (!b.healthClean || !h.healthClean) status = "partial:health";
  else if (
    !b.correlationClean ||
    !h.correlationClean ||
    !preconditions.stable_tool_call_ids_present ||
    b.missingIds ||
    h.missingIds
  )
    status = "partial:correlation";
  else status = "clean";

  const unchanged =
    changed.length === 0 &&
    [...Object.values(surface), bindingIds].every((d) => d.added.length === 0 && d.removed.length === 0);
  const notes =
    failure !== undefined
      ? [`capability_diff_failed: ${failure}`]
      : status === "clean" && unchanged
        ? [IDEMPOTENT_NOTE]
        : [];

  const diff: CapabilityDiff = {
    schema: RUNNER_SCHEMA.capabilityDiff,
    base_run_id: b.runId,
    head_run_id: h.runId,
    status,
    preconditions,
    scope: { ...SCOPE },
    surface,
    binding_ids: bindingIds,
    policy_outcomes: { changed },
    unbound: {
      filesystem_paths: [],
      network_endpoints: [],
      process_execs: [],
      mcp_tools: [],
      policy_decisions: [],
    },
    ambiguities: [],
    notes,
  };
  const validate = schemaValidator("runner-capability-diff");
  if (!validate(diff)) {
    const e = validate.errors?.[0];
    throw new AssayError(
      "runner_contract_invalid",
      `capability diff does not match its schema: \`${e?.instancePath || "/"}\` ${e?.message ?? "is invalid"}`,
    );
  }
  return diff;
}

/**
 * The exit code of `assay runner diff`: 0 for a clean diff with nothing added, removed or
 * changed, 1 for a clean diff with a difference (a finding), 2 for `partial:*` and `failed`
 * (the evidence cannot support a verdict).
 */
export function diffExitCode(diff: CapabilityDiff): 0 | 1 | 2 {
  if (diff.status !== "clean") return 2;
  const deltas = [...Object.values(diff.surface), diff.binding_ids];
  const same =
    diff.policy_outcomes.changed.length === 0 &&
    deltas.every((d) => d.added.length === 0 && d.removed.length === 0);
  return same ? 0 : 1;
}

/** A diff as its file holds it: 2-space indented JSON and a newline (the reference script's format). */
export function diffText(diff: CapabilityDiff): string {
  return prettyJson(diff);
}

/** What the diff needs of one side, checked. */
interface Side {
  runId: string;
  healthClean: boolean;
  correlationClean: boolean;
  surface: Record<SurfaceCategory, string[]>;
  /** Each tool_call_id, with the decision of its first binding. */
  ids: Map<string, string | null>;
  repeated: Set<string>;
  /** A binding had no tool_call_id (missing, null or empty). */
  missingIds: boolean;
}

function readSide(set: EvidenceSet, label: "base" | "head"): Side {
  const where = {
    health: set.where?.health ?? `${label} observation-health.json`,
    surface: set.where?.surface ?? `${label} capability-surface.json`,
    correlation: set.where?.correlation ?? `${label} correlation-report.json`,
  };
  const health = checkDocument(set.health, RUNNER_SCHEMA.observationHealth, where.health);
  const runId = health.run_id as string;
  const surfaceDoc = checkDocument(set.surface, RUNNER_SCHEMA.capabilitySurface, where.surface, runId);
  const correlation = checkDocument(
    set.correlation,
    RUNNER_SCHEMA.correlationReport,
    where.correlation,
    runId,
  );

  const surface = {} as Record<SurfaceCategory, string[]>;
  for (const c of SURFACE_CATEGORIES) {
    const list = surfaceDoc[c];
    if (!Array.isArray(list) || list.some((v) => typeof v !== "string"))
      throw inputError(where.surface, `/${c}`, "must be a list of strings");
    surface[c] = list as string[];
  }

  const bindings = correlation.bindings;
  if (!Array.isArray(bindings)) throw inputError(where.correlation, "/bindings", "must be a list");
  const ids = new Map<string, string | null>();
  const repeated = new Set<string>();
  let missingIds = false;
  bindings.forEach((binding: unknown, i) => {
    if (!isObject(binding)) throw inputError(where.correlation, `/bindings/${i}`, "must be an object");
    const id = binding.tool_call_id;
    const decision = binding.policy_decision ?? null;
    if (id !== undefined && id !== null && typeof id !== "string")
      throw inputError(where.correlation, `/bindings/${i}/tool_call_id`, "must be a string");
    if (typeof decision !== "string" && decision !== null)
      throw inputError(where.correlation, `/bindings/${i}/policy_decision`, "must be a string or null");
    if (typeof id !== "string" || id === "") {
      missingIds = true;
      return;
    }
    if (ids.has(id)) repeated.add(id);
    else ids.set(id, decision);
  });

  return {
    runId,
    healthClean: healthIsClean(health as unknown as ObservationHealth).clean,
    correlationClean:
      correlation.status === "clean" &&
      Array.isArray(correlation.ambiguities) &&
      correlation.ambiguities.length === 0,
    surface,
    ids,
    repeated,
    missingIds,
  };
}

/** The document as an object with the expected `schema` and a non-empty `run_id` (equal to `runId` when given). */
function checkDocument(doc: unknown, schema: string, where: string, runId?: string): Record<string, unknown> {
  if (!isObject(doc)) throw inputError(where, "", "must be a JSON object");
  if (doc.schema !== schema) throw inputError(where, "/schema", `must be \`${schema}\``);
  if (typeof doc.run_id !== "string" || doc.run_id === "")
    throw inputError(where, "/run_id", "must be a non-empty string");
  if (runId !== undefined && doc.run_id !== runId)
    throw inputError(where, "/run_id", `\`${doc.run_id}\` differs from the health document's \`${runId}\``);
  return doc;
}

/** Why the diff is `failed`, or undefined: a repeated id first, then the policy-consistency check. */
function failureOf(
  b: Side,
  h: Side,
  bindingIds: SetDelta,
  decisions: SetDelta,
  changedCount: number,
): string | undefined {
  for (const [side, label] of [
    [b, "base"],
    [h, "head"],
  ] as const) {
    const first = byteSort(side.repeated)[0];
    if (first !== undefined) return `tool_call_id ${first} appears more than once in the ${label} bindings`;
  }
  // The reference script's check (coarse, §14.8): the same bindings on both sides, and yet the
  // policy decisions seen changed while no binding's decision did.
  if (
    bindingIds.added.length === 0 &&
    bindingIds.removed.length === 0 &&
    (decisions.added.length > 0 || decisions.removed.length > 0) &&
    changedCount === 0
  )
    return "policy_decisions changed in the surface but no binding's policy outcome changed";
  return undefined;
}

function setDelta(base: Iterable<string>, head: Iterable<string>): SetDelta {
  const b = new Set(base);
  const h = new Set(head);
  return {
    added: byteSort([...h].filter((v) => !b.has(v))),
    removed: byteSort([...b].filter((v) => !h.has(v))),
    unchanged: byteSort([...b].filter((v) => h.has(v))),
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function inputError(where: string, pointer: string, message: string): AssayError {
  return new AssayError("input_invalid", `\`${pointer || "/"}\` ${message}`, { where });
}
