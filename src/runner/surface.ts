import { type CapabilitySurface, RUNNER_SCHEMA, type RunnerLayers } from "./contract.js";
import { byteSort } from "./serialize.js";

/**
 * capability-surface.json (contract §4): the kernel's paths (failed opens included), endpoints
 * and execs, the tools the gates decided on and `<decision>:<tool>` for each decision, every
 * category a set in UTF-8 byte order. The SDK layer contributes nothing: it is self-reported.
 */
export function buildSurface(layers: RunnerLayers): CapabilitySurface {
  const kernel = layers.kernel.facts === null ? null : layers.kernel.normalized.surface;
  const decisions = layers.policy?.events ?? [];
  return {
    schema: RUNNER_SCHEMA.capabilitySurface,
    run_id: layers.runId,
    filesystem_paths: kernel?.filesystem_paths ?? [],
    network_endpoints: kernel?.network_endpoints ?? [],
    process_execs: kernel?.process_execs ?? [],
    mcp_tools: byteSort(decisions.map((e) => e.tool)),
    policy_decisions: byteSort(decisions.map((e) => `${e.decision}:${e.tool}`)),
  };
}
