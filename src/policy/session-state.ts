import type { CompiledPolicy } from "./ir.js";
import { matchToolPattern } from "./tool-pattern.js";

/** What limit and sequence rules remember about a session: calls made, in total and per counter. */
export interface SessionState {
  total: number;
  readonly counts: Float64Array;
}

export function newSessionState(policy: CompiledPolicy): SessionState {
  return { total: 0, counts: new Float64Array(policy.counters.length) };
}

/** Count a call that was made (allowed or warned) in the session. */
export function recordCall(policy: CompiledPolicy, state: SessionState, tool: string): void {
  state.total++;
  for (const c of policy.counters)
    if (matchToolPattern(c.pattern, tool)) state.counts[c.slot] = (state.counts[c.slot] ?? 0) + 1;
}

// The state of a session with no calls yet, shared by every history-less decision (never recorded into).
const emptyStates = new WeakMap<CompiledPolicy, SessionState>();

/** A session state rebuilt from the tool names of earlier calls (`context.history`). Read-only when empty. */
export function stateFromHistory(policy: CompiledPolicy, history: unknown): SessionState {
  if (!Array.isArray(history) || history.length === 0) {
    let empty = emptyStates.get(policy);
    if (!empty) {
      empty = Object.freeze(newSessionState(policy));
      emptyStates.set(policy, empty);
    }
    return empty;
  }
  const state = newSessionState(policy);
  for (const h of history) {
    const tool =
      typeof h === "string"
        ? h
        : h && typeof h === "object"
          ? ((h as { tool?: unknown; name?: unknown }).tool ?? (h as { name?: unknown }).name)
          : undefined;
    if (typeof tool === "string") recordCall(policy, state, tool);
  }
  return state;
}
