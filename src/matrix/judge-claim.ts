import type { Artifact } from "./artifact.js";
import { celToJson, oneLine } from "./criterion.js";
import {
  CLAIM_STATES,
  type ClaimRow,
  type ClaimState,
  type EvidenceResult,
  RECOMMENDATION_FOR,
} from "./matrix-doc.js";
import type { ClaimSpec, EvidenceSpec } from "./registry.js";

/** An evidence file as found: the artifact read, or null when no evidence directory has it. */
export type FindArtifact = (e: Pick<EvidenceSpec, "kind" | "file">) => Artifact | null;

const PENDING_REASON: Record<ClaimSpec["pending"], string> = {
  NOT_STARTED: "the long-running gate has not been run yet",
  DEFER: "not validated: more engineering or hardware is needed",
  FUTURE_REQUIRED: "needs third-party evidence",
};

/**
 * A claim's state from its evidence. Every criterion must hold for VALIDATED (BETA when the claim
 * carries a disclosure code); one that fails or cannot be evaluated makes the claim DEFER, never
 * VALIDATED, naming the criterion, the value found and the file; absent evidence leaves the claim
 * in its `pending` state. A state signal, when named, picks the state among those the evidence allows.
 */
export function judgeClaim(spec: ClaimSpec, find: FindArtifact): ClaimRow {
  const evidence = spec.evidence.map((e) => evaluate(e, find(e)));
  const failed = evidence.find((r) => r.status === "fail" || r.status === "error");
  const missing = evidence.filter((r) => r.status === "missing");
  const row = (
    state: ClaimState,
    verdict: ClaimRow["verdict"],
    reason: string,
    signal: ClaimRow["signal"] = null,
  ): ClaimRow => ({
    id: spec.id,
    group: spec.group,
    claim: spec.claim,
    required_for: spec.required_for,
    state,
    recommendation: RECOMMENDATION_FOR[state],
    verdict,
    reason,
    evidence,
    limitations: spec.limitations,
    disclosure: spec.disclosure,
    signal,
  });

  if (evidence.length === 0)
    return row(spec.pending, "none", spec.pending_reason ?? PENDING_REASON[spec.pending]);
  if (failed !== undefined) return row("DEFER", "fail", failureReason(failed));
  if (missing.length > 0) {
    const files = missing.map((r) => `\`${r.file}\``).join(", ");
    const why = spec.pending_reason === null ? "" : `; ${spec.pending_reason}`;
    return row(spec.pending, "missing", `evidence missing: ${files}${why}`);
  }

  let state: ClaimState = "VALIDATED";
  let reason = `every criterion holds (${evidence.length} source${evidence.length === 1 ? "" : "s"})`;
  let signal: ClaimRow["signal"] = null;
  if (spec.signal !== null) {
    const s = spec.signal;
    const artifact = find(s);
    let value: unknown;
    try {
      value = celToJson(artifact === null ? null : s.expression.value(artifact));
    } catch (err) {
      return row(
        "DEFER",
        "fail",
        `state signal \`${s.expression.source}\` in \`${s.file}\` cannot be evaluated: ${oneLine(err)}`,
        {
          file: s.file,
          expression: s.expression.source,
          value: null,
          state: null,
        },
      );
    }
    const key = String(value);
    const mapped = Object.hasOwn(s.states, key) ? s.states[key] : undefined;
    signal = { file: s.file, expression: s.expression.source, value, state: mapped ?? null };
    if (mapped === undefined || !CLAIM_STATES.includes(mapped)) {
      return row(
        "DEFER",
        "fail",
        `state signal \`${s.expression.source}\` is \`${JSON.stringify(value)}\`, which its states do not map`,
        signal,
      );
    }
    state = mapped;
    reason = `state signal \`${s.expression.source}\` is \`${JSON.stringify(value)}\` (every criterion holds)`;
  }
  if (state === "VALIDATED" && spec.disclosure !== null) {
    state = "BETA";
    reason = `${reason}; ships with disclosure \`${spec.disclosure}\``;
  }
  return row(state, "pass", reason, signal);
}

function evaluate(e: EvidenceSpec, artifact: Artifact | null): EvidenceResult {
  const base = { kind: e.kind, file: e.file, criterion: e.criterion.source };
  if (artifact === null) return { ...base, path: null, status: "missing" };
  const at = { ...base, path: artifact.path };
  let found: unknown;
  try {
    const v = e.criterion.found(artifact);
    found = v === undefined ? undefined : celToJson(v);
  } catch {
    // The comparison's operand cannot be read: the criterion's own evaluation says why.
    found = undefined;
  }
  let value: unknown;
  try {
    value = e.criterion.value(artifact);
  } catch (err) {
    return { ...at, status: "error", message: oneLine(err) };
  }
  const withFound = found === undefined ? at : { ...at, found };
  if (value === true) return { ...withFound, status: "pass" };
  if (value === false) return { ...withFound, status: "fail", message: "the criterion is false" };
  return {
    ...withFound,
    status: "error",
    message: `the criterion gives \`${JSON.stringify(celToJson(value))}\`, not a bool`,
  };
}

function failureReason(r: EvidenceResult): string {
  const found = "found" in r ? `: found \`${JSON.stringify(r.found)}\`` : "";
  if (r.status === "error")
    return `criterion \`${r.criterion}\` cannot be evaluated in \`${r.path}\`: ${r.message}`;
  return `criterion \`${r.criterion}\` fails${found} in \`${r.path}\``;
}
