import {
  type CorrelationBinding,
  type CorrelationReport,
  type CorrelationStatus,
  RUNNER_SCHEMA,
  type RunnerLayers,
} from "./contract.js";
import { byteSort } from "./serialize.js";

const WINDOW = { start: "run_started", end: "run_finished" } as const;

/**
 * correlation-report.json (contract §9): one binding per policy decision, joined to the SDK's
 * tool calls by `tool_call_id` only, with the reasons the join is not clean as ambiguities.
 *
 * Where we differ from the earlier implementation:
 * - `cgroup_id` is never written. It is a different number on every run, so it would break
 *   byte-identical artifacts, and the golden leaves it out (contract §14.5). The session-cgroup
 *   ambiguity for several decisions is still reported.
 * - A `tool_call_id` the policy layer holds twice (a client reusing a request id, say) keeps its
 *   first binding only and adds `duplicate_tool_call_id:<id>`: the diff refuses a report whose
 *   bindings repeat an id, so the report says what happened instead of becoming unusable.
 * - A decision whose `tool_call_id` the gate derived (the client sent none in `_meta`) adds
 *   `policy_event_without_stable_tool_call_id:<id>`: the contract's "a call without a stable id
 *   cannot be correlated cleanly", made visible.
 */
export function buildCorrelation(layers: RunnerLayers): CorrelationReport {
  let status: CorrelationStatus = "clean";
  const bindings: CorrelationBinding[] = [];
  const ambiguities: string[] = [];
  const markPartial = (why: string) => {
    ambiguities.push(why);
    if (status === "clean") status = "partial";
  };

  const decisions = layers.policy?.events ?? [];
  const rejections = layers.policy?.frameRejections ?? 0;
  // Frames the gate refused before deciding (fail closed): calls, perhaps, that no binding stands for.
  if (rejections > 0) markPartial(`gate_rejected_frames:${rejections}`);
  if (decisions.length > 0) {
    const { kernel } = layers;
    // The whole run's count, the same on every binding: the kernel layer is not split per call.
    const kernelEvents = kernel.facts === null ? 0 : kernel.normalized.retained;
    if (kernelEvents === 0) markPartial("policy_events_without_kernel_events");
    // A kernel capture runs the agent in one session cgroup, which cannot tell calls apart.
    if (kernel.facts !== null && decisions.length > 1)
      markPartial("session_cgroup_ambiguous_for_multiple_policy_events");
    const bound = new Set<string>();
    const repeated = new Set<string>();
    // The gate names a call the client gave no id to `<session>:<id type>:<request id>`, and the
    // runner makes the run id every gate's session: such a call has no stable id to join on.
    const derived = `${layers.runId}:`;
    for (const d of decisions) {
      if (
        d.tool_call_id.startsWith(derived) &&
        /^(number|string):/.test(d.tool_call_id.slice(derived.length))
      )
        markPartial(`policy_event_without_stable_tool_call_id:${d.tool_call_id}`);
      if (bound.has(d.tool_call_id)) {
        if (!repeated.has(d.tool_call_id)) markPartial(`duplicate_tool_call_id:${d.tool_call_id}`);
        repeated.add(d.tool_call_id);
        continue;
      }
      bound.add(d.tool_call_id);
      bindings.push({
        tool_call_id: d.tool_call_id,
        policy_decision: d.decision,
        kernel_event_count: kernelEvents,
        window: { ...WINDOW },
      });
    }
    const sdkIds = (layers.sdk?.events ?? []).flatMap((e) =>
      e.tool_call_id === null ? [] : [e.tool_call_id],
    );
    for (const id of byteSort(sdkIds))
      if (!bound.has(id)) markPartial(`sdk_tool_call_without_policy_binding:${id}`);
  }

  return {
    schema: RUNNER_SCHEMA.correlationReport,
    run_id: layers.runId,
    status,
    bindings,
    ambiguities,
  };
}
