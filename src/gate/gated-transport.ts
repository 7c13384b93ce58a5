import type { Transport, TransportSendOptions } from "@modelcontextprotocol/sdk/shared/transport.js";
import type { JSONRPCMessage, MessageExtraInfo } from "@modelcontextprotocol/sdk/types.js";
import {
  commitOne,
  type FrameSource,
  failureAnswers,
  repliesOf,
  serverMessage,
  stageFrame,
  unrecordedWarning,
} from "./frame-step.js";
import type { McpGate } from "./gate.js";
import type { GateStep } from "./gate-step.js";
import { classify } from "./jsonrpc.js";
import { plainClone } from "./plain-clone.js";
import { SerialLane } from "./serial-lane.js";

/** What handing a client message on started: the inner transport's send, when it went on. */
interface Handed {
  sent?: Promise<void>;
}

const NOT_SENT: Handed = Object.freeze({});

/**
 * How the in-process gate stages messages: the client is answered for each one it refuses, and
 * nothing more is reported; the SDK hands over parsed messages, so none is too large to read.
 */
const QUIET: FrameSource = Object.freeze({
  noun: "message",
  from: "",
  maxBytes: Number.POSITIVE_INFINITY,
  warn: () => {},
});

/**
 * A `Transport` decorator for the client's side of a connection: messages the client sends are
 * decided and recorded by the McpGate before they reach `inner` (within send() when the sink
 * stores synchronously), messages `inner` delivers go through the gate before they reach the
 * client, and the gate's own answers (a denied call) go to the client behind the server's
 * messages already received. Each direction is handled strictly in order, on its own lane.
 */
export class GatedTransport implements Transport {
  onclose?: () => void;
  onerror?: (error: Error) => void;
  onmessage?: <T extends JSONRPCMessage>(message: T, extra?: MessageExtraInfo) => void;

  /** Client → server: each message waits for the one before it to be decided and handed on. */
  private readonly outgoing = new SerialLane((err) => this.report(err));
  /** Server → client, the gate's own answers, and the close that ends it. */
  private readonly incoming = new SerialLane((err) => this.report(err));
  /** The client asked to close: requests still pending are not answered by the gate. */
  private closing = false;
  private closed = false;

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
      this.incoming.runWith(this.serverStep, message, extra);
    this.inner.onerror = (error: Error) => this.report(error);
    this.inner.onclose = () => this.serverClosed();
    await this.inner.start();
  }

  async send(message: JSONRPCMessage, options?: TransportSendOptions): Promise<void> {
    if (this.closed) throw new Error("assay gate: the connection is closed");
    // What is forwarded is what was decided, whatever the caller does with its object meanwhile:
    // every message is copied, not only calls (a `ping` turned into a `tools/call` while an
    // asynchronous sink stores records would otherwise go on undecided).
    const msg = plainClone(message);
    const k = classify(msg);
    const call = k.kind === "request" && k.method === "tools/call";
    // The size is only recorded for what the gate refuses; never for a call or a response.
    const bytes = call || k.kind === "response" ? 0 : wireBytes(msg);
    // With a sink that stores synchronously and nothing queued ahead, decided, recorded and
    // handed on now, as `assay mcp wrap` does; otherwise after the messages sent before it.
    const handed = this.outgoing.call(this.clientStep, msg, bytes, options);
    const { sent } = handed instanceof Promise ? await handed : handed;
    // Not awaited on the lane, so sends overlap as without the gate.
    await sent;
  }

  async close(): Promise<void> {
    this.closing = true;
    try {
      await this.inner.close();
    } finally {
      // Transports call onclose from close(); this covers one that does not.
      this.serverClosed();
      await this.incoming.idle();
    }
  }

  /** Decide one client message and hand it on. */
  private readonly clientStep = (
    message: JSONRPCMessage,
    bytes: number,
    options: TransportSendOptions | undefined,
  ): Handed | Promise<Handed> => {
    const step = commitOne(this.gate, stageFrame(this.gate, { kind: "message", msg: message, bytes }, QUIET));
    if (!(step instanceof Promise)) return this.carryOut(step, message, options);
    return step.then((s) => this.carryOut(s, message, options));
  };

  /**
   * Answer the client (a denied call) and hand on what goes to the server. The answer joins the
   * server's messages: after every one the gate already received, never from inside send().
   */
  private carryOut(
    step: GateStep,
    message: JSONRPCMessage,
    options: TransportSendOptions | undefined,
  ): Handed {
    // The client gets its error; whoever embeds the gate hears of the store that failed too.
    const unrecorded = unrecordedWarning(step);
    if (unrecorded !== undefined) this.report(new Error(unrecorded));
    if (step.reply !== undefined) {
      this.incoming.later(() => {
        for (const r of repliesOf(step)) this.deliver(r);
      });
    }
    if (!step.forward) return NOT_SENT;
    const out = (step.replacement ?? message) as JSONRPCMessage;
    return { sent: this.inner.send(out, options) };
  }

  /** One server message: decided and delivered now, unless a step ahead of it (or its own) has to wait. */
  private readonly serverStep = (
    message: JSONRPCMessage,
    extra: MessageExtraInfo | undefined,
  ): void | Promise<void> => {
    let step: GateStep | Promise<GateStep>;
    try {
      step = this.gate.stepFromServer(message);
    } catch (err) {
      this.serverFailed(message, extra, err);
      return;
    }
    if (!(step instanceof Promise)) {
      this.deliverStep(message, extra, step);
      return;
    }
    return step.then(
      (s) => this.deliverStep(message, extra, s),
      (err) => this.serverFailed(message, extra, err),
    );
  };

  /** Pass a server message on as the gate decided. */
  private deliverStep(message: JSONRPCMessage, extra: MessageExtraInfo | undefined, step: GateStep): void {
    const out = serverMessage(step, message);
    if (out !== undefined) this.deliver(out, extra);
  }

  /** Fail closed: the request gets an error rather than a listing the gate could not check. */
  private serverFailed(message: JSONRPCMessage, extra: MessageExtraInfo | undefined, err: unknown): void {
    this.report(err);
    for (const a of failureAnswers(message, err)) this.deliver(a, extra);
  }

  private serverClosed(): void {
    if (this.closed) return;
    this.closed = true;
    this.incoming.later(async () => {
      // Requests already on their way are registered as pending before their answers are made.
      await this.outgoing.idle();
      const answers = this.gate.serverGone("the MCP server connection closed before it answered");
      if (!this.closing) for (const a of answers) this.deliver(a);
      this.onclose?.();
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
