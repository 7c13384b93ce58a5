import type { JsonRpcId } from "../records/decision-event.js";

const MAX_PENDING = 10_000;

export interface PendingRequest {
  id: JsonRpcId;
  method: string;
}

/**
 * Client requests forwarded and not answered yet, by id (a Map keeps `1` and `"1"` apart): an
 * answer is matched to its request (a `tools/list` answer is filtered), and when the server goes
 * away each request still waiting gets an error rather than a hang.
 */
export class PendingRequests {
  private readonly byId = new Map<JsonRpcId, PendingRequest>();

  track(id: JsonRpcId, method: string): void {
    // Bounded: a client that never reads answers (or a server that never sends them) cannot
    // grow this without limit; the oldest entries only lose their "server gone" error.
    if (this.byId.size >= MAX_PENDING) {
      const oldest = this.byId.keys().next().value;
      if (oldest !== undefined) this.byId.delete(oldest);
    }
    this.byId.set(id, { id, method });
  }

  /** The request an answer with this id answers, no longer waited for. */
  answered(id: JsonRpcId): PendingRequest | undefined {
    const p = this.byId.get(id);
    if (p) this.byId.delete(id);
    return p;
  }

  /** Stop waiting for a request whose answer will not come (cancelled, or its exchange ended). */
  forget(id: JsonRpcId): void {
    this.byId.delete(id);
  }

  /** Every request still waiting, oldest first; none is waited for afterwards. */
  drain(): PendingRequest[] {
    const out = [...this.byId.values()];
    this.byId.clear();
    return out;
  }
}
