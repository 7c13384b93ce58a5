/** Assay's public library API. */
export { canonicalDigest, canonicalJson, sha256Digest } from "./lib/canonical-json.js";
export { AssayError, type AssayErrorCode, type Diagnostic, EXIT, exitCodeFor } from "./lib/errors.js";
export type { ToolCall } from "./policy/call-shape.js";
export { checkTrace, type Trace } from "./policy/check-trace.js";
export { type CompileOptions, compilePolicy, DEFAULT_CALL_LIMITS } from "./policy/compile.js";
export { type DecisionContext, decide } from "./policy/decide.js";
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
export { PolicySession } from "./policy/session.js";
