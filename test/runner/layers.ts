import type {
  KernelCaptureFacts,
  KernelNormalized,
  PolicyEventLine,
  PolicyLayer,
  RunnerLayers,
  SdkEventLine,
  SdkLayer,
} from "../../src/runner/contract.js";

/** A clean bpftrace capture's facts, changed by `o`. */
export function facts(o: Partial<KernelCaptureFacts> = {}): KernelCaptureFacts {
  return {
    backend: "bpftrace",
    drops: 0,
    hooks: {
      openat: { emitted: 10, dropped: 0 },
      openat2: { emitted: 0, dropped: 0 },
      connect: { emitted: 2, dropped: 0 },
    },
    parse_errors: 0,
    closed_early: false,
    ...o,
  };
}

export function kernelResult(o: Partial<KernelNormalized> = {}): KernelNormalized {
  return {
    retained: 4,
    filtered: 0,
    filteredTop: [],
    surface: { filesystem_paths: [], network_endpoints: [], process_execs: [] },
    emitted: { openat: 2, connect: 2, exec: 0 },
    ...o,
  };
}

export function policy(...decisions: [id: string, tool: string, decision: string][]): PolicyLayer {
  const events = decisions.map(
    ([tool_call_id, tool, decision], seq): PolicyEventLine => ({
      schema: "assay.runner.policy_event.v0",
      run_id: "run_l",
      seq,
      source_event_type: "assay.tool.decision",
      source: "urn:assay:mcp-gate:fs",
      tool_call_id,
      tool,
      decision,
    }),
  );
  return { events, ndjson: events.map((e) => `${JSON.stringify(e)}\n`).join(""), frameRejections: 0 };
}

export function sdk(...ids: (string | null)[]): SdkLayer {
  const events = ids.map(
    (id, seq): SdkEventLine => ({
      schema: "assay.runner.sdk_event.v0",
      run_id: "run_l",
      seq,
      event_type: id === null ? "run_finished" : "tool_call_started",
      source: "fixture",
      sdk_name: null,
      sdk_version: null,
      tool_call_id: id,
      tool: id === null ? null : "read_file",
    }),
  );
  return { events, ndjson: events.map((e) => `${JSON.stringify(e)}\n`).join("") };
}

export function layers(o: Partial<RunnerLayers> = {}): RunnerLayers {
  return {
    runId: "run_l",
    kernel: { facts: facts(), normalized: kernelResult() },
    policy: null,
    sdk: null,
    ...o,
  };
}
