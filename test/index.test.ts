import assert from "node:assert/strict";
import { test } from "node:test";

// The pinned public surface: a change here is a deliberate API change (CHANGELOG entry).
const EXPORTS = [
  "AssayError",
  "DECISION_META_KEY",
  "DEFAULT_CALL_LIMITS",
  "EXIT",
  "FileDecisionLog",
  "McpGate",
  "MemoryDecisionLog",
  "PinSet",
  "PlanCache",
  "PolicySession",
  "REASON_CODES",
  "attest",
  "buildAuditKit",
  "buildPlan",
  "buildSoakProvenance",
  "canonicalDigest",
  "canonicalJson",
  "checkTrace",
  "compilePolicy",
  "contextDigest",
  "createGate",
  "decide",
  "exitCodeFor",
  "generateKeyPairPem",
  "keyId",
  "loadBundle",
  "loadPack",
  "loadPins",
  "loadServeConfig",
  "openSdkEventLog",
  "packFromObject",
  "parseDecisionLog",
  "parsePack",
  "parseStrictJson",
  "pinsSaver",
  "runSoak",
  "savePins",
  "sha256Digest",
  "startService",
  "toRulePlan",
  "verifyAttestation",
  "verifyAuditKit",
  "verifyBundle",
  "writeAuditKit",
  "writeBundle",
];

test("src/index.ts exports exactly the pinned names", async () => {
  const api = await import("../src/index.js");
  assert.deepEqual(Object.keys(api).sort(), EXPORTS);
});

test("the reason codes are pinned", async () => {
  const { REASON_CODES } = await import("../src/index.js");
  assert.deepEqual(
    [...REASON_CODES],
    [
      "allowed",
      "default_allow",
      "default_warn",
      "tool_not_allowed",
      "tool_denied",
      "args_invalid",
      "expr_failed",
      "network_denied",
      "limit_exceeded",
      "sequence_violation",
      "evaluation_error",
      "call_invalid",
      "call_too_large",
      "context_invalid",
      "tool_drift",
    ],
  );
});
