import type { DecisionContext } from "../policy/decide.js";
import type { Decision } from "../policy/decision.js";
import type { CompiledPolicy } from "../policy/ir.js";
import type { RulePlan } from "../policy/rule-plan.js";
import type { PolicySession } from "../policy/session.js";
import { driftDecision, gateDeny } from "./call-facts.js";
import type { LossyNumber } from "./exact-json.js";
import { errorText } from "./gate-step.js";
import { callAmbiguity } from "./message-shape.js";
import type { PinSet } from "./pins.js";

/**
 * The decision on one `tools/call`: what the gate denies itself comes first (keys a server could
 * read otherwise, a number the policy could not see exactly, a drifted tool), then the policy.
 * Never throws: an evaluator error denies.
 */
export function decideCall(
  policy: CompiledPolicy,
  session: PolicySession,
  context: DecisionContext,
  pins: PinSet | undefined,
  msg: Record<string, unknown>,
  lossy: LossyNumber | undefined,
  plan?: RulePlan,
): Decision {
  try {
    const params = msg.params as Record<string, unknown> | undefined;
    const ambiguous = callAmbiguity(params);
    if (ambiguous) return gateDeny(policy, "call_invalid", ambiguous.path, ambiguous.message);
    if (lossy) {
      // The server gets the number as written; the policy would decide on another value.
      const message = `number \`${lossy.text}\` at \`${lossy.pointer}\` cannot be decided exactly (a double holds ${String(Number(lossy.text))}): send it as a string`;
      return gateDeny(policy, "call_invalid", lossy.pointer, message);
    }
    // A tool this session has not listed is decided on its pin and the latest listing any
    // session of the server saw (PinSet.drift).
    const tool = typeof params?.name === "string" ? params.name : undefined;
    const drift = tool === undefined ? undefined : pins?.drift(tool);
    if (drift) return driftDecision(policy, tool as string, drift);
    return session.decide(msg, context, plan ? { plan } : {});
  } catch (err) {
    // decide() denies rather than throws; this is the net under it.
    return gateDeny(
      policy,
      "evaluation_error",
      "",
      `the gate could not evaluate the call: ${errorText(err)}`,
    );
  }
}
