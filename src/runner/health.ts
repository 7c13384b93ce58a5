import type {
  CorrelationStatus,
  KernelCaptureFacts,
  KernelLayer,
  KernelNormalized,
  NetworkEndpointClaimScope,
  NetworkProtocolCoverage,
  ObservationHealth,
  RunnerLayers,
} from "./contract.js";
import { RUNNER_SCHEMA } from "./contract.js";

/** The platform name the health document uses (Rust's `std::env::consts::OS`): linux, macos, windows. */
export function healthPlatform(platform: NodeJS.Platform | string): string {
  if (platform === "darwin") return "macos";
  if (platform === "win32") return "windows";
  return platform;
}

/**
 * observation-health.json (contract §3) for one capture on `platform` (see healthPlatform).
 *
 * Notes, one per layer in apply order: `s2_kernel_capture` as the contract writes it, with our
 * backend appended as ` backend=bpftrace|strace` (the contract leaves the text after the code
 * free-form); when there is no kernel layer, `s2_kernel_capture: kernel_layer=absent reason=...`
 * takes the place of the earlier implementation's `contract_only_mode` note (our wording: we always
 * try to capture, so the note says why we could not); `s4_policy_capture: policy_events=N` in the
 * documented wording (§14.1); `s5_sdk_capture: sdk_events=N sdk_tool_calls=M`.
 *
 * A policy layer given (even empty) is `present`; whether an empty one is acceptable is the
 * capture's decision, made before this is built.
 */
export function buildHealth(layers: RunnerLayers, platform: string): ObservationHealth {
  const notes: string[] = [];
  let kernelLayer: KernelLayer = "absent";
  let cgroup: CorrelationStatus = "partial";
  let drops = 0;
  let coverage: NetworkProtocolCoverage = "absent";
  const { kernel } = layers;
  if (kernel.facts === null) {
    notes.push(
      `s2_kernel_capture: kernel_layer=absent reason=${kernel.reason}${backendSuffix(kernel.backend)}`,
    );
  } else {
    const { facts, normalized } = kernel;
    const clean = facts.parse_errors === 0 && !facts.closed_early;
    if (clean) {
      cgroup = "clean";
      drops = facts.drops;
      kernelLayer = drops === 0 ? "complete" : "partial_ringbuf_drops";
      coverage = observedCoverage(facts);
      if (kernelLayer === "partial_ringbuf_drops" && coverage === "absent") coverage = "unknown";
    }
    notes.push(s2Note(facts, normalized, clean, coverage, claimScope(coverage)));
  }
  if (layers.policy !== null)
    notes.push(
      `s4_policy_capture: policy_events=${layers.policy.events.length}` +
        (layers.policy.frameRejections > 0 ? ` frame_rejections=${layers.policy.frameRejections}` : ""),
    );
  if (layers.sdk !== null) {
    const ids = new Set<string>();
    for (const e of layers.sdk.events) if (e.tool_call_id !== null) ids.add(e.tool_call_id);
    notes.push(`s5_sdk_capture: sdk_events=${layers.sdk.events.length} sdk_tool_calls=${ids.size}`);
  }
  return {
    schema: RUNNER_SCHEMA.observationHealth,
    run_id: layers.runId,
    platform,
    kernel_layer: kernelLayer,
    ringbuf_drops: drops,
    policy_layer: layers.policy !== null ? "present" : "absent",
    sdk_layer: layers.sdk !== null ? "self_reported" : "absent",
    cgroup_correlation: cgroup,
    network_protocol_coverage: coverage,
    network_endpoint_claim_scope: claimScope(coverage),
    notes,
  };
}

/** From the hook counters: our backends hook connect only, never sendto/sendmsg. */
function observedCoverage(facts: KernelCaptureFacts): NetworkProtocolCoverage {
  if (facts.hooks.connect.emitted > 0) return "connect_only";
  return facts.hooks.connect.dropped > 0 ? "unknown" : "absent";
}

function claimScope(coverage: NetworkProtocolCoverage): NetworkEndpointClaimScope {
  if (coverage === "unknown") return "unknown";
  return coverage === "absent" ? "not_applicable" : "diagnostic_only";
}

function s2Note(
  facts: KernelCaptureFacts,
  normalized: KernelNormalized,
  clean: boolean,
  coverage: NetworkProtocolCoverage,
  scope: NetworkEndpointClaimScope,
): string {
  const head = `s2_kernel_capture: monitor_events=${normalized.retained}`;
  const suffix = backendSuffix(facts.backend);
  // The status is written as the earlier implementation's Rust Debug name, capitalized.
  if (!clean) return `${head} cgroup_correlation=Partial kernel_layer downgraded to absent${suffix}`;
  // The scope is the document's own; the earlier implementation's code always wrote
  // `diagnostic_only` here, where its contract (and the golden) say the field's value.
  const network = `ringbuf_drops=${facts.drops} network_protocol_coverage=${coverage} network_endpoint_claim_scope=${scope}`;
  if (facts.drops === 0) return `${head} ${network}${suffix}`;
  // Our hooks are all tracepoints: nothing is attributed to LSM or socket hooks, and there are
  // no sendto/sendmsg hooks.
  const { openat, openat2, connect } = facts.hooks;
  const emitted = openat.emitted + openat2.emitted + connect.emitted;
  const top = normalized.filteredTop.map((f) => `${f.count}x:${f.path}`).join(",");
  return (
    `${head} ${network} drop_breakdown=tracepoint:${facts.drops} lsm:0 socket:0` +
    ` emitted=tracepoint:${emitted} lsm:0 socket:0` +
    ` tracepoint_hooks=openat:${openat.emitted}/${openat.dropped} openat2:${openat2.emitted}/${openat2.dropped}` +
    ` connect:${connect.emitted}/${connect.dropped} sendto:0/0 sendmsg:0/0` +
    ` filtered_loader_events=${normalized.filtered} filtered_loader_top=[${top}]${suffix}`
  );
}

function backendSuffix(backend: KernelCaptureFacts["backend"] | undefined): string {
  return backend === undefined ? "" : ` backend=${backend}`;
}
