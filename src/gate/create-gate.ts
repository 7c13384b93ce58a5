import type { Transport, TransportSendOptions } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage, MessageExtraInfo } from "@modelcontextprotocol/sdk/types.js";
import { AssayError } from "../lib/errors.js";
import { type GateOptions, type GateStep, McpGate } from "./gate.js";
import { classify, errorResponse, RPC } from "./jsonrpc.js";
import { PinSet } from "./pins.js";
import { plainClone } from "./plain-clone.js";

/** The in-process gate: one configuration, and one gated connection per `wrap`. */
export interface Gate {
  /**
   * Put the gate between an MCP client and `transport`, the client's connection to one server.
   * Each wrapped transport is its own gate session (limits, sequences, session id, what was
   * listed and what drifted); the sink, the pins themselves and the rest of the options are shared.
   */
  wrap(transport: Transport): GatedTransport;
}

/**
 * The gate of `assay mcp wrap`, in-process: same decisions, same records.
 *
 * ```ts
 * const gate = createGate({ policy, sink: await FileDecisionLog.open("decisions.ndjson") });
 * await client.connect(gate.wrap(new StdioClientTransport({ command: "my-server" })));
 * ```
 *
 * Without `pins`, each connection pins its tools on the first `tools/list` (as `assay mcp wrap`
 * does without `--pins`). The sink is the caller's: the gate never closes it.
 */
export function createGate(options: GateOptions): Gate {
  if (typeof options?.policy !== "object" || options.policy === null) {
    throw new AssayError("usage", "createGate needs a compiled `policy` (see compilePolicy)");
  }
  let wrapped = 0;
  return {
    wrap(transport) {
      if (options.sessionId !== undefined && wrapped > 0) {
        throw new AssayError(
          "usage",
          `a gate with the fixed session id \`${options.sessionId}\` wraps one transport: call createGate again for another connection`,
        );
      }
      wrapped++;
      // Given pins are shared, but each connection compares its own listings with them.
      const pins = options.pins ? options.pins.session() : new PinSet();
      return new GatedTransport(transport, new McpGate({ ...options, pins }));
    },
  };
}

/**
 * A `Transport` decorator for the client's side of a connection: messages the client sends are
 * decided and recorded by the McpGate before they reach `inner` (within send() when the sink
 * stores synchronously), messages `inner` delivers go through `McpGate.fromServer` before they
 * reach the client, and the gate's own answers (a denied call) go to the client behind the
 * server's messages already received. Each direction is handled strictly in order.
 */
export class GatedTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;

  /** Client → server: each message waits for the one before it to be decided and handed on. */
  private outgoing: Promise<unknown> = Promise.resolve();
  /** Server → client, and the close that ends it. */
  private incoming: Promise<unknown> = Promise.resolve();
  /** Tasks in `incoming` not finished yet: while there are none, a server message goes through at once. */
  private incomingQueued = 0;
  /** The client asked to close: requests still pending are not answered by the gate. */
  private closing = false;
  private closed = false;
  /** Client messages waiting in `outgoing` to be decided. */
  private queued = 0;

  constructor(
    readonly inner: Transport,
    readonly gate: McpGate,
  ) {}

  /** The inner transport's session (e.g. the Streamable HTTP `Mcp-Session-Id`), not the gate's. */
  get sessionId(): string | undefined {
    return this.inner.sessionId;
  }

  setProtocolVersion(version: string): void {
    this.inner.setProtocolVersion?.(version);
  }

  async start(): Promise<void> {
    // Installed here, not in the constructor: the client sets its callbacks before start().
    this.inner.onmessage = (message: JSONRPCMessage, extra?: MessageExtraInfo) =>
      this.fromServer(message, extra);
    this.inner.onerror = (error: Error) => this.report(error);
    this.inner.onclose = () => this.serverClosed();
    await this.inner.start();
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.closed) throw new Error("assay gate: the connection is closed");
    const k = classify(message);
    const call = k.kind === "request" && k.method === "tools/call";
    // The call forwarded is the call decided, whatever the caller does with its object meanwhile.
    const msg = call ? plainClone(message) : message;
    // The size is only recorded for what the gate refuses; never for a call or a response.
    const bytes = call || k.kind === "response" ? 0 : wireBytes(message);
    if (this.queued === 0 && this.gate.syncCommit) {
      // A sink that stores synchronously (and so nothing queued ahead): decide, record and hand
      // on now, as `assay mcp wrap` does, rather than through the promise chain.
      const step = this.gate.commitSync([this.gate.stageFromClient(msg, bytes)])[0] as GateStep;
      await this.carryOut(step, msg, options).sent;
      return;
    }
    this.queued++;
    const step = this.outgoing.then(() => this.clientStep(msg, bytes, options));
    this.outgoing = step.catch(() => {}).finally(() => this.queued--);
    const { sent } = await step;
    await sent;
  }

  async close(): Promise<void> {
    this.closing = true;
    try {
      await this.inner.close();
    } finally {
      // Transports call onclose from close(); this covers one that does not.
      this.serverClosed();
      await this.incoming;
    }
  }

  /** Decide one client message and hand it on; `sent` is not awaited here, so sends overlap as without the gate. */
  private async clientStep(
    message: JSONRPCMessage,
    bytes: number,
    options: TransportSendOptions | undefined,
  ): Promise<{ sent?: Promise<void> }> {
    return this.carryOut(await this.gate.fromClient(message, bytes), message, options);
  }

  /**
   * Answer the client (a denied call) and hand on what goes to the server. The answer joins the
   * server's messages: after every one the gate already received, never from inside send().
   */
  private carryOut(
    step: GateStep,
    message: JSONRPCMessage,
    options: TransportSendOptions | undefined,
  ): { sent?: Promise<void> } {
    const reply = step.reply;
    if (reply !== undefined) {
      this.serverDo(async () => {
        for (const r of Array.isArray(reply) ? reply : [reply]) this.deliver(r);
      });
    }
    if (!step.forward) return {};
    const out = (step.replacement ?? message) as JSONRPCMessage;
    return { sent: this.inner.send(out, options) };
  }

  private fromServer(message: JSONRPCMessage, extra: MessageExtraInfo | undefined): void {
    if (this.incomingQueued === 0) {
      // Nothing waits ahead of it (the usual case): decided and delivered now, as the inner
      // transport delivers it. Only a step that has to wait (pins being saved) is queued.
      let step: GateStep | Promise<GateStep>;
      try {
        step = this.gate.stepFromServer(message);
      } catch (err) {
        this.serverFailed(message, extra, err);
        return;
      }
      if (!(step instanceof Promise)) {
        this.serverStep(message, extra, step);
        return;
      }
      const pending = step;
      this.serverDo(async () => {
        let done: GateStep;
        try {
          done = await pending;
        } catch (err) {
          this.serverFailed(message, extra, err);
          return;
        }
        this.serverStep(message, extra, done);
      });
      return;
    }
    this.serverDo(async () => {
      let step: GateStep;
      try {
        step = await this.gate.fromServer(message);
      } catch (err) {
        this.serverFailed(message, extra, err);
        return;
      }
      this.serverStep(message, extra, step);
    });
  }

  /** Pass a server message on as the gate decided. */
  private serverStep(message: JSONRPCMessage, extra: MessageExtraInfo | undefined, step: GateStep): void {
    if (!step.forward) return;
    this.deliver(step.replacement === undefined ? message : step.replacement, extra);
  }

  /** Fail closed: the request gets an error rather than a listing the gate could not check. */
  private serverFailed(message: JSONRPCMessage, extra: MessageExtraInfo | undefined, err: unknown): void {
    this.report(err);
    const k = classify(message);
    if (k.kind !== "response" || k.id === null) return;
    this.deliver(errorResponse(k.id, RPC.internalError, `assay gate: ${asError(err).message}`), extra);
  }

  private serverClosed(): void {
    if (this.closed) return;
    this.closed = true;
    const outgoing = this.outgoing;
    this.serverDo(async () => {
      // Requests already on their way are registered as pending before their answers are made.
      await outgoing;
      const answers = this.gate.serverGone("the MCP server connection closed before it answered");
      if (!this.closing) for (const a of answers) this.deliver(a);
      this.onclose?.();
    });
  }

  /** Run `fn` after everything the server sent before; a failure is reported and the next message still runs. */
  private serverDo(fn: () => Promise<void>): void {
    this.incomingQueued++;
    this.incoming = this.incoming
      .then(fn)
      .catch((err) => this.report(err))
      .then(() => {
        this.incomingQueued--;
      });
  }

  private report(err: unknown): void {
    try {
      this.onerror?.(asError(err));
    } catch {
      // The client's error handler failed too: nothing is left to tell.
    }
  }

  private deliver(message: unknown, extra?: MessageExtraInfo): void {
    try {
      this.onmessage?.(message as JSONRPCMessage, extra);
    } catch (err) {
      // A throwing handler must not stop the messages behind it.
      this.report(err);
    }
  }
}

function wireBytes(message: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(message) ?? "");
  } catch {
    return 0;
  }
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
