import { AssayError } from "../../lib/errors.js";
import { readTextFile } from "../../lib/read-text.js";
import { schemaValidator } from "../../lib/schema-validator.js";
import { parseStrictYaml } from "../../lib/strict-yaml.js";
import { pointerSegments, pointerToPath } from "../../policy/json-pointer.js";
import { schemaErrorDiagnostics } from "../../policy/schema-diagnostics.js";

/** The numbers `assay sim readiness` judges a history by (docs/readiness.md). */
export interface ReadinessThresholds {
  window: number;
  min_runs: number;
  min_span_days: number;
  min_pass_rate: number;
  ci_lower_floor: number;
  max_flake_rate: number;
  max_infra_error_rate: number;
  max_median_duration_minutes: number;
  max_p95_duration_minutes: number;
  /** Only when the policy sets it (the upstream file does). */
  max_contract_fail_rate?: number;
  /** Only when the policy sets it (the upstream file does). */
  max_unknown_rate?: number;
}

export interface ReadinessPolicy {
  /** `default`, or the policy file as given. */
  source: string;
  format: "default" | "assay" | "upstream";
  policy_version?: string;
  thresholds: ReadinessThresholds;
}

/** The promotion criteria of issue 4 §6, used for every key a policy leaves out. */
export const DEFAULT_READINESS_THRESHOLDS: Readonly<ReadinessThresholds> = Object.freeze({
  window: 20,
  min_runs: 14,
  min_span_days: 14,
  min_pass_rate: 0.95,
  ci_lower_floor: 0.9,
  max_flake_rate: 0.05,
  max_infra_error_rate: 0.05,
  max_median_duration_minutes: 20,
  max_p95_duration_minutes: 35,
});

export const UPSTREAM_POLICY_VERSION = "soak_readiness_policy_v1";
const MAX_POLICY_BYTES = 1024 * 1024;

export function defaultReadinessPolicy(): ReadinessPolicy {
  return { source: "default", format: "default", thresholds: { ...DEFAULT_READINESS_THRESHOLDS } };
}

const validatePolicy = schemaValidator("readiness-policy");

interface UpstreamDoc {
  policy_version: string;
  window: { runs_observed_target: number; runs_observed_minimum: number };
  thresholds: {
    success_rate_min?: number;
    contract_fail_rate_max?: number;
    infra_fail_rate_max?: number;
    unknown_rate_max?: number;
  };
}

/** Read and check a readiness policy file (YAML or JSON; Assay's format or upstream's). */
export async function loadReadinessPolicy(path: string): Promise<ReadinessPolicy> {
  return parseReadinessPolicy(await readTextFile(path, "input_unreadable", "readiness policy"), path);
}

/**
 * Parse a readiness policy. A document with `policy_version` is the upstream
 * soak_readiness_policy_v1 file and is mapped onto Assay's thresholds (docs/readiness.md); any
 * other is Assay's format. Keys left out keep their defaults. Problems are `input_invalid`, each at
 * its `file:line:col`.
 */
export function parseReadinessPolicy(text: string, source: string): ReadinessPolicy {
  if (Buffer.byteLength(text, "utf8") > MAX_POLICY_BYTES) {
    throw new AssayError("input_invalid", `readiness policy is over the ${MAX_POLICY_BYTES} byte limit`, {
      where: source,
    });
  }
  const parsed = parseStrictYaml(text, source, "input_invalid");
  let value = parsed.value;
  const locate = (pointer: string): string => parsed.at(pointerSegments(pointer));
  if (value === null || value === undefined) value = {};
  if (!validatePolicy(value)) {
    throw AssayError.fromDiagnostics(schemaErrorDiagnostics(validatePolicy.errors, "input_invalid", locate));
  }

  const policy =
    "policy_version" in (value as object)
      ? fromUpstream(value as UpstreamDoc, source)
      : fromAssay(value as Partial<ReadinessThresholds>, source);
  const t = policy.thresholds;
  if (t.min_runs > t.window) {
    const pointer = policy.format === "upstream" ? "/window/runs_observed_minimum" : "/min_runs";
    throw new AssayError(
      "input_invalid",
      `${pointerToPath(pointer)}: ${t.min_runs} runs can never fit in a window of ${t.window}`,
      { where: locate(pointer) },
    );
  }
  if (t.max_p95_duration_minutes < t.max_median_duration_minutes) {
    throw new AssayError(
      "input_invalid",
      `max_p95_duration_minutes (${t.max_p95_duration_minutes}) is below max_median_duration_minutes (${t.max_median_duration_minutes})`,
      { where: locate("/max_p95_duration_minutes") },
    );
  }
  return policy;
}

function fromAssay(doc: Partial<ReadinessThresholds> & { schema_version?: string }, source: string) {
  const { schema_version: _v, ...set } = doc;
  return {
    source,
    format: "assay",
    thresholds: { ...DEFAULT_READINESS_THRESHOLDS, ...set },
  } satisfies ReadinessPolicy;
}

/**
 * INVARIANT: the mapping documented in docs/readiness.md. Criteria upstream has no key for (span,
 * CI floor, flakes, durations) keep Assay's defaults.
 */
function fromUpstream(doc: UpstreamDoc, source: string): ReadinessPolicy {
  const th = doc.thresholds;
  const t: ReadinessThresholds = {
    ...DEFAULT_READINESS_THRESHOLDS,
    window: doc.window.runs_observed_target,
    min_runs: doc.window.runs_observed_minimum,
  };
  if (th.success_rate_min !== undefined) t.min_pass_rate = th.success_rate_min;
  if (th.infra_fail_rate_max !== undefined) t.max_infra_error_rate = th.infra_fail_rate_max;
  if (th.contract_fail_rate_max !== undefined) t.max_contract_fail_rate = th.contract_fail_rate_max;
  if (th.unknown_rate_max !== undefined) t.max_unknown_rate = th.unknown_rate_max;
  return { source, format: "upstream", policy_version: doc.policy_version, thresholds: t };
}
