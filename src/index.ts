/** Assay's public library API. */

import type { ServeConfig } from "./serve/config-types.js";
import type { RunningService, StartOptions } from "./serve/server.js";

export { type BuildPlanOptions, buildPlan, type Plan, toRulePlan } from "./adapt/plan.js";
export { PlanCache } from "./adapt/plan-cache.js";

export { buildSoakProvenance } from "./audit-kit/provenance.js";
export { verifyAuditKit } from "./audit-kit/verify.js";
export { buildAuditKit, writeAuditKit } from "./audit-kit/write-kit.js";
export { attest } from "./evidence/attest.js";
export { writeBundle } from "./evidence/bundle-writer.js";
export { generateKeyPairPem, keyId } from "./evidence/keys.js";
export { parseStrictJson } from "./evidence/strict-json.js";
export { verifyAttestation } from "./evidence/verify-attestation.js";
export { verifyBundle } from "./evidence/verify-bundle.js";
export { createGate, type Gate } from "./gate/create-gate.js";
export { type DecisionSink, FileDecisionLog, MemoryDecisionLog } from "./gate/decision-log.js";
export { DECISION_META_KEY, type DenyMode } from "./gate/deny-reply.js";
export { McpGate } from "./gate/gate.js";
export type { GateOptions } from "./gate/gate-options.js";
export type { GateStep } from "./gate/gate-step.js";
export type { GatedTransport } from "./gate/gated-transport.js";
export {
  type LegacyToolPin,
  loadPins,
  PinSet,
  type PinsDoc,
  pinsSaver,
  savePins,
  type ToolPin,
} from "./gate/pins.js";
export { canonicalDigest, canonicalJson, sha256Digest } from "./lib/canonical-json.js";
export { AssayError, type AssayErrorCode, type Diagnostic, EXIT, exitCodeFor } from "./lib/errors.js";
export type { ToolCall } from "./policy/call-shape.js";
export { checkTrace, type Trace } from "./policy/check-trace.js";
export { type CompileOptions, compilePolicy, DEFAULT_CALL_LIMITS } from "./policy/compile.js";
export { type DecideOptions, type DecisionContext, decide } from "./policy/decide.js";
export {
  type Decision,
  REASON_CODES,
  type ReasonCode,
  type TraceViolation,
  type Violation,
} from "./policy/decision.js";
export type { CompiledPolicy, CompiledRule } from "./policy/ir.js";
export { type LoadedPack, loadPack, packFromObject, parsePack } from "./policy/load-pack.js";
export type { Dimension, Effect, PackDoc, RuleDoc, Severity } from "./policy/pack-types.js";
export { contextDigest, type RulePlan } from "./policy/rule-plan.js";
export { PolicySession } from "./policy/session.js";
export type {
  AnyGateEvent,
  DecisionEvent,
  DecisionEventData,
  GateOutcome,
} from "./records/decision-event.js";
export { parseDecisionLog } from "./records/decision-record.js";
export { openSdkEventLog, type SdkEventLog, type SdkEventLogOptions } from "./runner/sdk-events.js";
export { loadServeConfig } from "./serve/config.js";
export type { ServeConfig } from "./serve/config-types.js";
export type { RunningService, StartOptions } from "./serve/server.js";
export { runSoak, type SoakOptions, type SoakResult } from "./sim/soak/run.js";
export { type Bundle, loadBundle } from "./sim/target/load.js";

/**
 * Start the decision service (docs/serve.md) from a loaded config. Its module (and fastify) loads
 * on the first call, so importing the library for `decide` does not pay for the HTTP stack.
 */
export async function startService(config: ServeConfig, opts?: StartOptions): Promise<RunningService> {
  return (await import("./serve/server.js")).startService(config, opts);
}
