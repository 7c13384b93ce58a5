import type { EventStore } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import type { JSONRPCMessage } from "@modelcontextprotocol/sdk/types.js";

/**
 * Keeps every SSE event of a session so a client that reconnects with `Last-Event-ID` gets what it
 * missed (the SDK sends priming events and allows `closeSSEStream` only when a store is set).
 * Event ids are `<stream>_<seq>`, so the stream of an event is read from its id.
 */
export class MemoryEventStore implements EventStore {
  private readonly events: Array<{ id: string; streamId: string; message: JSONRPCMessage }> = [];
  private seq = 0;

  async storeEvent(streamId: string, message: JSONRPCMessage): Promise<string> {
    const id = `${streamId}_${++this.seq}`;
    this.events.push({ id, streamId, message });
    return id;
  }

  async getStreamIdForEventId(eventId: string): Promise<string | undefined> {
    return this.events.find((e) => e.id === eventId)?.streamId;
  }

  async replayEventsAfter(
    lastEventId: string,
    { send }: { send: (eventId: string, message: JSONRPCMessage) => Promise<void> },
  ): Promise<string> {
    const at = this.events.findIndex((e) => e.id === lastEventId);
    const last = this.events[at];
    if (last === undefined) return "";
    for (const e of this.events.slice(at + 1)) {
      // the priming event carries `{}`, which is no message to replay
      if (e.streamId === last.streamId && Object.keys(e.message).length > 0) await send(e.id, e.message);
    }
    return last.streamId;
  }
}
