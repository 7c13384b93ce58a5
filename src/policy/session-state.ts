import { shapeCall } from "./call-shape.js";
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

/** A session state rebuilt from earlier calls (`context.history`), or why the history cannot be read. */
export function stateFromHistory(
  policy: CompiledPolicy,
  history: unknown,
): SessionState | { error: string; path: string } {
  if (history === undefined || (Array.isArray(history) && history.length === 0)) {
    let empty = emptyStates.get(policy);
    if (!empty) {
      empty = Object.freeze(newSessionState(policy));
      emptyStates.set(policy, empty);
    }
    return empty;
  }
  // A history that cannot be read would silently switch off limit and sequence rules: refuse it.
  if (!Array.isArray(history))
    return { error: "`context.history` must be a list of earlier calls", path: "/context/history" };
  const state = newSessionState(policy);
  for (const [i, h] of history.entries()) {
    let tool: string | undefined;
    if (typeof h === "string") tool = h;
    else {
      const shaped = shapeCall(h, policy.limits);
      if (shaped.ok) tool = shaped.call.tool;
    }
    if (tool === undefined || tool === "") {
      return {
        error: `\`context.history[${i}]\` is neither a tool name nor a call`,
        path: `/context/history/${i}`,
      };
    }
    recordCall(policy, state, tool);
  }
  return state;
}
