/**
 * The runner's v0 artifacts, as the earlier implementation defined them
 * (../shared/reference/upstream-assay/runner-contract.md; docs/runner.md). Key order in every
 * interface below is the order the fields are written in: objects are built in this order and
 * serialized with JSON.stringify, compact, no trailing newline (NDJSON lines end in "\n").
 * A new field is a contract change: schemas/runner-*.schema.json are `additionalProperties: false`.
 */

export const RUNNER_SCHEMA = {
  kernelEvent: "assay.runner.kernel_event.v0",
  policyEvent: "assay.runner.policy_event.v0",
  sdkEvent: "assay.runner.sdk_event.v0",
  runEvent: "assay.runner.event.v0",
  observationHealth: "assay.runner.observation_health.v0",
  capabilitySurface: "assay.runner.capability_surface.v0",
  correlationReport: "assay.runner.correlation_report.v0",
  archiveManifest: "assay.runner.archive_manifest.v0",
  capabilityDiff: "assay.runner.capability_diff.v0",
} as const;

/** A run id: non-empty, `[A-Za-z0-9_-]` only (`:` is banned). Generated: `run_` + 32 hex. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9_-]+$/;

/** The archive's entries, in the order they are written (manifest first, then byte order). */
export const ARCHIVE_FILES = [
  "manifest.json",
  "capability-surface.json",
  "correlation-report.json",
  "events.ndjson",
  "layers/kernel.ndjson",
  "layers/policy.ndjson",
  "layers/sdk.ndjson",
  "observation-health.json",
] as const;
export type ArchiveFile = (typeof ARCHIVE_FILES)[number];

// ---------------------------------------------------------------------------------------------
// Kernel layer

/** An unsigned 64-bit value: a number when it is a safe integer, else its exact decimal text. */
export type U64 = number | string;

/** `value` as a U64: a number up to 2^53 - 1, else its decimal text. */
export function u64(value: bigint): U64 {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value.toString();
}

/** What a kernel backend (bpftrace, strace) saw one process of the agent's cgroup do. */
export type RawKernelEvent =
  | {
      kind: "openat";
      /** Thread-group id. */
      pid: number;
      /** The path argument, decoded as lossy UTF-8; null when it could not be read. */
      path: string | null;
      /**
       * The open flags. These three are u64 in the kernel (openat2's `open_how`): a value beyond
       * 2^53 is carried as its exact decimal text, never rounded.
       */
      flags: U64;
      mode: U64;
      /** openat2's `how.resolve`; 0 for open/openat. */
      resolve: U64;
      /** The syscall's return value: an fd, or -errno. */
      ret: number;
    }
  | {
      kind: "connect";
      pid: number;
      /** AF_INET (2) or AF_INET6 (10) with the address as text and the port; null for any other family or an unreadable sockaddr. */
      sockaddr: { family: 2 | 10; address: string; port: number } | null;
    }
  | {
      kind: "exec";
      pid: number;
      /** The path of the program that was executed (successful execs only); null when unreadable. */
      path: string | null;
    };

export const KERNEL_EVENT_TYPE = {
  openat: 1,
  connect: 2,
  exec: 4,
  file_blocked: 10,
  connect_blocked: 20,
} as const;

export type AccessMode = "read" | "write" | "read_write" | "unknown";
export type OperationFlag = "create" | "truncate" | "append" | "exclusive";

/** One line of layers/kernel.ndjson (schemas/runner-kernel-event-v0.schema.json, upstream's own). */
export interface KernelEventLine {
  schema: typeof RUNNER_SCHEMA.kernelEvent;
  run_id: string;
  seq: number;
  pid: number;
  event_type: number;
  kind: string;
  value: string | null;
  flags?: number;
  mode?: number;
  resolve?: number;
  return_value?: number;
  access_mode?: AccessMode;
  operation_flags?: OperationFlag[];
  status?: "success" | "error";
}

/** What a kernel capture reports besides its events: the counts the health notes are made of. */
export interface KernelCaptureFacts {
  backend: "bpftrace" | "strace";
  /** Events the kernel lost (perf/ring buffer overruns), exactly as the backend counted them. */
  drops: number;
  /** Per hook: events emitted by the probe, and events of that hook lost (when the backend can tell). */
  hooks: Record<"openat" | "openat2" | "connect", { emitted: number; dropped: number }>;
  /** Lines of the backend's output that could not be parsed (any → cgroup_correlation partial). */
  parse_errors: number;
  /** The backend's stream closed before the agent exited (→ partial). */
  closed_early: boolean;
}

// ---------------------------------------------------------------------------------------------
// Policy and SDK layers

/** One line of layers/policy.ndjson. */
export interface PolicyEventLine {
  schema: typeof RUNNER_SCHEMA.policyEvent;
  run_id: string;
  seq: number;
  source_event_type: "assay.tool.decision";
  source: string;
  tool_call_id: string;
  tool: string;
  decision: string;
}

export const SDK_EVENT_TYPES = [
  "tool_call_started",
  "tool_call_completed",
  "run_finished",
  "run_failed",
] as const;
export type SdkEventType = (typeof SDK_EVENT_TYPES)[number];

/** One line of layers/sdk.ndjson (the last four fields always present, null when absent). */
export interface SdkEventLine {
  schema: typeof RUNNER_SCHEMA.sdkEvent;
  run_id: string;
  seq: number;
  event_type: SdkEventType;
  source: string;
  sdk_name: string | null;
  sdk_version: string | null;
  tool_call_id: string | null;
  tool: string | null;
}

/** The environment the runner hands the agent for its SDK events. */
export const SDK_ENV = {
  log: "ASSAY_RUNNER_SDK_EVENT_LOG",
  runId: "ASSAY_RUNNER_RUN_ID",
  schema: "ASSAY_RUNNER_SDK_EVENT_SCHEMA",
} as const;

// ---------------------------------------------------------------------------------------------
// events.ndjson (phase markers; timing, never compared)

export interface RunStartedEvent {
  schema: typeof RUNNER_SCHEMA.runEvent;
  run_id: string;
  seq: 0;
  type: "run_started";
  agent_shim: string;
  command: string[];
  env_keys: string[];
  window_elapsed_ms: 0;
}
export interface RunFinishedEvent {
  schema: typeof RUNNER_SCHEMA.runEvent;
  run_id: string;
  seq: 1;
  type: "run_finished";
  exit_code: number | null;
  signal: number | null;
  success: boolean;
  window_elapsed_ms: number;
}

// ---------------------------------------------------------------------------------------------
// The three evidence documents

export type KernelLayer = "complete" | "partial_ringbuf_drops" | "absent";
export type CorrelationStatus = "clean" | "partial" | "failed";
export type NetworkProtocolCoverage =
  | "unknown"
  | "absent"
  | "connect_only"
  | "datagram_peer_observed"
  | "connect_and_datagram_peer_observed";
export type NetworkEndpointClaimScope = "unknown" | "not_applicable" | "diagnostic_only" | "peer_set";

/** observation-health.json (no `capture_origin`: ours is `own`, which is omitted; no `redaction`: not implemented). */
export interface ObservationHealth {
  schema: typeof RUNNER_SCHEMA.observationHealth;
  run_id: string;
  platform: string;
  kernel_layer: KernelLayer;
  ringbuf_drops: number;
  policy_layer: "present" | "absent";
  sdk_layer: "present" | "self_reported" | "absent";
  cgroup_correlation: CorrelationStatus;
  network_protocol_coverage: NetworkProtocolCoverage;
  network_endpoint_claim_scope: NetworkEndpointClaimScope;
  notes: string[];
}

export const SURFACE_CATEGORIES = [
  "filesystem_paths",
  "network_endpoints",
  "process_execs",
  "mcp_tools",
  "policy_decisions",
] as const;
export type SurfaceCategory = (typeof SURFACE_CATEGORIES)[number];

/** capability-surface.json: every category a set sorted by UTF-8 bytes. */
export type CapabilitySurface = {
  schema: typeof RUNNER_SCHEMA.capabilitySurface;
  run_id: string;
} & Record<SurfaceCategory, string[]>;

export interface CorrelationBinding {
  tool_call_id: string;
  policy_decision: string | null;
  cgroup_id?: number;
  kernel_event_count: number;
  window: { start: "run_started"; end: "run_finished" };
}

export interface CorrelationReport {
  schema: typeof RUNNER_SCHEMA.correlationReport;
  run_id: string;
  status: CorrelationStatus;
  bindings: CorrelationBinding[];
  ambiguities: string[];
}

export interface ArchiveManifest {
  schema: typeof RUNNER_SCHEMA.archiveManifest;
  run_id: string;
  files: Record<string, { path: string; sha256: string; bytes: number }>;
}

// ---------------------------------------------------------------------------------------------
// capability_diff.v0

export type DiffStatus = "clean" | "partial:health" | "partial:correlation" | "failed";

export interface SetDelta {
  added: string[];
  removed: string[];
  unchanged: string[];
}

export interface CapabilityDiff {
  schema: typeof RUNNER_SCHEMA.capabilityDiff;
  base_run_id: string;
  head_run_id: string;
  status: DiffStatus;
  preconditions: {
    base_health_clean: boolean;
    head_health_clean: boolean;
    base_correlation_clean: boolean;
    head_correlation_clean: boolean;
    stable_tool_call_ids_required: true;
    stable_tool_call_ids_present: boolean;
  };
  scope: {
    projection: "surface_set";
    uses_raw_telemetry: false;
    uses_proof_pack: false;
    per_binding_capability_values: false;
  };
  surface: Record<SurfaceCategory, SetDelta>;
  binding_ids: SetDelta;
  policy_outcomes: { changed: { tool_call_id: string; base: string | null; head: string | null }[] };
  unbound: Record<SurfaceCategory, string[]>;
  ambiguities: string[];
  notes: string[];
}

// ---------------------------------------------------------------------------------------------
// What the normalizer and the layer readers hand the three evidence documents

/** What normalizing the kernel events produced besides layers/kernel.ndjson (src/runner/kernel-normalize.ts). */
export interface KernelNormalized {
  /** Lines written to layers/kernel.ndjson (`monitor_events`). */
  retained: number;
  /** Opens dropped as loader telemetry (contract §5), counted after deduplication. */
  filtered: number;
  /** The 5 most filtered paths: count descending, then path in UTF-8 byte order. */
  filteredTop: { path: string; count: number }[];
  /** The kernel's share of capability-surface.json, each a set sorted by UTF-8 bytes. */
  surface: { filesystem_paths: string[]; network_endpoints: string[]; process_execs: string[] };
  /** Retained lines per kind. */
  emitted: { openat: number; connect: number; exec: number };
}

/** layers/policy.ndjson: its events and its exact text (src/runner/policy-layer.ts). */
export interface PolicyLayer {
  events: PolicyEventLine[];
  ndjson: string;
  /** `assay.gate.frame_rejected` records: frames the gate refused without a decision (not lines of the layer). */
  frameRejections: number;
}

/** layers/sdk.ndjson: its events and its exact text (src/runner/sdk-layer.ts). */
export interface SdkLayer {
  events: SdkEventLine[];
  ndjson: string;
}

/**
 * The kernel layer of one capture: a backend ran (its facts and the normalizer's result), or there
 * is no kernel layer, with why (a note in the health document) and, when one was tried, the backend.
 */
export type KernelOutcome =
  | { facts: KernelCaptureFacts; normalized: KernelNormalized }
  | { facts: null; reason: string; backend?: KernelCaptureFacts["backend"] };

/** Everything the three evidence documents are built from (health.ts, surface.ts, correlation.ts). */
export interface RunnerLayers {
  runId: string;
  kernel: KernelOutcome;
  /** Null when the capture had no decision log (no `--mcp-config`). */
  policy: PolicyLayer | null;
  /** Null when the capture had no SDK event log. */
  sdk: SdkLayer | null;
}
