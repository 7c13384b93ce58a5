import { shapeCall } from "./call-shape.js";
import { type DecideOptions, type DecisionContext, decideInState } from "./decide.js";
import type { Decision } from "./decision.js";
import type { CompiledPolicy } from "./ir.js";
import { resolvePlan } from "./rule-plan.js";
import { newSessionState, recordCall, type SessionState } from "./session-state.js";

/**
 * One agent session under a policy: limit and sequence rules see the calls made so far.
 * A denied call is not counted (it never ran); allowed and warned calls are.
 */
export class PolicySession {
  readonly policy: CompiledPolicy;
  private readonly state: SessionState;

  constructor(policy: CompiledPolicy) {
    this.policy = policy;
    this.state = newSessionState(policy);
  }

  /** Decide the session's next call; `opts.plan` as for decide() (a mismatched plan throws). */
  decide(call: unknown, context: DecisionContext = {}, opts: DecideOptions = {}): Decision {
    const plan = opts.plan === undefined ? undefined : resolvePlan(this.policy, opts.plan, context);
    const shaped = shapeCall(call, this.policy.limits);
    const decision = decideInState(this.policy, shaped, context, this.state, plan);
    if (shaped.ok && decision.effect !== "deny") recordCall(this.policy, this.state, shaped.call.tool);
    return decision;
  }

  /** Calls counted so far. */
  get callCount(): number {
    return this.state.total;
  }
}
