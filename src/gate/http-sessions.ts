import { randomUUID } from "node:crypto";
import { McpGate } from "./gate.js";
import type { GateOptions } from "./gate-options.js";

/** Sessions kept at once; the least recently used is forgotten first (its client re-initializes). */
const MAX_SESSIONS = 10_000;

/**
 * One gate per MCP session, so session-scoped limits and sequences hold per session. Sessions are
 * the ones the upstream issued through this proxy (an `Mcp-Session-Id` on an initialize answer);
 * requests without a session id share one more gate. Decision records name each gate by its own
 * id (a UUID, or `<sessionId>.<n>` when one was given), never by the upstream's session id,
 * which is a credential.
 */
export class GateSessions {
  readonly sessionless: McpGate;
  private readonly gates = new Map<string, McpGate>();
  private made = 0;

  constructor(
    private readonly opts: GateOptions,
    private readonly max = MAX_SESSIONS,
  ) {
    this.sessionless = this.make();
  }

  /** The gate of a session this proxy saw begin; undefined for any other id. */
  get(mcpSessionId: string): McpGate | undefined {
    const gate = this.gates.get(mcpSessionId);
    if (gate) {
      this.gates.delete(mcpSessionId);
      this.gates.set(mcpSessionId, gate);
    }
    return gate;
  }

  /** The upstream issued `mcpSessionId`: give it a gate (once). */
  open(mcpSessionId: string): McpGate {
    const known = this.get(mcpSessionId);
    if (known) return known;
    if (this.gates.size >= this.max) {
      const oldest = this.gates.keys().next().value;
      if (oldest !== undefined) this.gates.delete(oldest);
    }
    const gate = this.make();
    this.gates.set(mcpSessionId, gate);
    return gate;
  }

  drop(mcpSessionId: string): void {
    this.gates.delete(mcpSessionId);
  }

  get size(): number {
    return this.gates.size;
  }

  private make(): McpGate {
    const n = this.made++;
    const base = this.opts.sessionId;
    const sessionId = base === undefined ? randomUUID() : n === 0 ? base : `${base}.${n}`;
    // Pins are shared (a tool pinned by one session is compared in every other), but what was
    // listed and what drifted is per session: one session's listing neither clears nor causes
    // another's drift.
    const pins = this.opts.pins?.session();
    return new McpGate({ ...this.opts, sessionId, ...(pins ? { pins } : {}) });
  }
}
