import { randomUUID } from "node:crypto";
import { type Clock, systemClock } from "../lib/clock.js";
import type { DecisionContext } from "../policy/decide.js";
import type { CompiledPolicy } from "../policy/ir.js";
import { PolicySession } from "../policy/session.js";
import type { FrameRejectedData, GateOutcome, JsonRpcId } from "../records/decision-event.js";
import { disguisedToolCall } from "./call-facts.js";
import { decideCall } from "./decide-call.js";
import type { DecisionSink } from "./decision-log.js";
import { denyReply, refusal, unrecordedStep, withReplies } from "./deny-reply.js";
import {
  type ExactNumber,
  type ExactSource,
  encodeJson,
  exactSource,
  inexactIds,
  type LossyNumber,
  scanJsonText,
} from "./exact-json.js";
import type { GateOptions } from "./gate-options.js";
import { GateRecords } from "./gate-records.js";
import {
  DROPPED,
  errorText,
  type GateStep,
  PASS,
  PASS_STAGED,
  type StagedStep,
  storedStep,
} from "./gate-step.js";
import { classify, errorResponse, RPC } from "./jsonrpc.js";
import {
  batchIds,
  batchRefusal,
  envelopeAmbiguity,
  isRecord,
  lossyArgument,
  MAX_MESSAGE_DEPTH,
  nestingDepth,
  requestIds,
  serverAmbiguity,
  topLevelId,
} from "./message-shape.js";
import { PendingRequests } from "./pending-requests.js";
import { ToolLists } from "./tools-list.js";

/**
 * The MCP gate, independent of any transport: every `tools/call` from the client is decided
 * (and recorded) before anything is forwarded; `tools/list` results are filtered and pinned;
 * everything else passes unchanged. The stdio wrapper, the in-process transport and the
 * Streamable HTTP proxy all drive this one class, through frame-step.ts.
 *
 * Its surface is small: stage a client message (`stageFromClient`, `stageRejectFrame`,
 * `stageStarted`: decided, nothing stored), commit staged messages (`commit`, or `commitSync`
 * for a chunk in one write), step a server message (`stepFromServer`), and answer what is still
 * pending when the server goes (`serverGone`). `fromClient` and `fromServer` do it all for one
 * message.
 */
export class McpGate {
  readonly sessionId: string;
  readonly policy: CompiledPolicy;
  private readonly session: PolicySession;
  private readonly clock: Clock;
  private readonly context: DecisionContext;
  private readonly records: GateRecords;
  private readonly pending = new PendingRequests();
  private readonly lists: ToolLists;

  constructor(private readonly opts: GateOptions) {
    this.policy = opts.policy;
    this.session = new PolicySession(opts.policy);
    this.sessionId = opts.sessionId ?? randomUUID();
    this.clock = opts.clock ?? systemClock;
    this.context = opts.context ?? {};
    this.records = new GateRecords({
      keep: opts.sink !== undefined,
      sessionId: this.sessionId,
      label: opts.label,
      clock: this.clock,
      dryRun: opts.dryRun === true,
      logArguments: opts.logArguments === true,
    });
    this.lists = new ToolLists({ ...opts, context: this.context });
  }

  /**
   * A message from the client, parsed. `bytes` is its size on the wire (for records). Whatever is
   * forwarded is the parsed message (`replacement`), never the client's bytes: a server whose JSON
   * parser keeps the first of two duplicate keys, or decodes another charset, must see exactly
   * what the gate saw.
   */
  async fromClient(msg: unknown, bytes = 0): Promise<GateStep> {
    return this.commit(this.stageFromClient(msg, bytes));
  }

  /**
   * `fromClient` without storing the records: the caller stores them (`commit`, `commitSync`).
   * `source` is the text `msg` was parsed from, when it came as text: the staged step then
   * carries the `line` to forward, which writes every number as the client did (`1.0` stays
   * `1.0`, 2^53 + 1 keeps its digits). Shape checks (nesting, encoding, ids that cannot be kept
   * exactly) run first, so a message refused for its shape neither counts against the session's
   * limits nor is recorded as forwarded.
   */
  stageFromClient(msg: unknown, bytes = 0, source?: string): StagedStep {
    // Most clients write JSON as JSON.stringify does. Then the text is what the gate would forward
    // anyway, every number in it reads back as written, and the scan of its text (a loop over
    // every character: ~2,300 of a pipelined call's ~94,000 instructions, bench:gate-counts) is
    // not needed.
    let json: string | undefined;
    if (source !== undefined) {
      try {
        json = JSON.stringify(msg);
      } catch {
        // Too deep for JSON.stringify: the scan below finds how deep, and the message is refused.
      }
    }
    const facts =
      source === undefined || json === source
        ? { depth: nestingDepth(msg), inexact: false }
        : scanJsonText(source);
    let exact: ExactSource | undefined;
    if (source !== undefined) {
      try {
        exact = exactSource(source, facts);
      } catch (err) {
        const message = `the message could not be read: ${errorText(err)}`;
        return this.reject("invalid_message", topLevelId(msg), message, bytes);
      }
      const ids = exact === undefined ? [] : inexactIds(exact);
      if (ids.length > 0) {
        // Kept as written it would be tracked (and answered) as the double it rounds to, so
        // two ids could collide; rewritten, the server would answer an id never sent.
        const message = `id \`${(ids[0] as ExactNumber).text}\` is refused: a number id must read back as written (use a string, or an integer below 2^53 without fraction or exponent)`;
        if (!Array.isArray(msg)) return this.reject("invalid_message", ids[0], message, bytes);
        const refused = this.reject("invalid_message", undefined, message, bytes);
        return withReplies(refused, batchIds(exact as ExactSource), message);
      }
    }
    if (facts.depth > MAX_MESSAGE_DEPTH) {
      const message = `message nests deeper than ${MAX_MESSAGE_DEPTH} levels`;
      return this.reject("invalid_message", topLevelId(msg), message, bytes);
    }
    let line: string | undefined;
    if (source !== undefined) {
      try {
        line = exact === undefined && json !== undefined ? json : encodeJson(msg, exact, msg);
      } catch (err) {
        const message = `the message could not be re-encoded: ${errorText(err)}`;
        return this.reject("invalid_message", topLevelId(msg), message, bytes);
      }
    }
    const lossy = exact === undefined ? undefined : lossyArgument(exact.twin);
    const staged = this.clientStep(msg, bytes, line, lossy);
    // A forwarded tools/call is already staged with its replacement and line (no copy per call).
    if (staged.step.why !== "pass") return staged;
    // What goes on is always the message as parsed and decided, never the client's bytes.
    const out: StagedStep = {
      step: { forward: true, replacement: msg, why: "pass" },
      records: staged.records,
    };
    if (staged.recorded) out.recorded = staged.recorded;
    if (line !== undefined) out.line = line;
    return out;
  }

  /** `fromClient` for a frame that could not be read as JSON (or was too large to try). */
  async rejectFrame(
    reason: "unparsable" | "undecodable" | "oversize",
    id: JsonRpcId | ExactNumber | undefined,
    message: string,
    bytes: number,
  ): Promise<GateStep> {
    return this.commit(this.reject(reason, id, message, bytes));
  }

  /** `rejectFrame` without storing the record; also for a frame the transport could not handle. */
  stageRejectFrame(
    reason: "unparsable" | "undecodable" | "oversize" | "invalid_message",
    id: JsonRpcId | ExactNumber | undefined,
    message: string,
    bytes: number,
  ): StagedStep {
    return this.reject(reason, id, message, bytes);
  }

  /**
   * Record that this gate started in front of `server` (argv): the first record of its session,
   * so a reader can tell a gate that decided nothing from one that never ran.
   */
  async started(server: readonly string[]): Promise<void> {
    await this.commit(this.stageStarted(server));
  }

  /** `started` without storing the record; it has no fail-closed step (`commitSync` throws). */
  stageStarted(server: readonly string[]): StagedStep {
    return { step: PASS, records: this.records.started(server, this.policy.digest) };
  }

  /** Store `staged`'s records through the sink, then return its step (or its fail-closed step). */
  async commit(staged: StagedStep): Promise<GateStep> {
    const sink = this.opts.sink;
    try {
      if (sink) for (const r of staged.records) await sink.append(r);
    } catch (err) {
      if (staged.unrecorded) return staged.unrecorded(err);
      throw err;
    }
    staged.recorded?.();
    return staged.step;
  }

  /** Whether `commitSync` can store records here: no sink, or one that stores synchronously. */
  get syncCommit(): boolean {
    return this.opts.sink === undefined || this.opts.sink.appendSync !== undefined;
  }

  /**
   * Store the records of several staged messages in one synchronous write, then return their
   * steps in order. All or none are stored: when the write fails, every message that had a
   * record takes its fail-closed step. INVARIANT: `syncCommit` is true.
   */
  commitSync(items: readonly StagedStep[]): GateStep[] {
    const sink = this.opts.sink;
    // One message per read is the common case: its records as they are, no new array.
    const records = !sink
      ? []
      : items.length === 1
        ? (items[0] as StagedStep).records
        : items.flatMap((i) => i.records);
    if (records.length === 0) return items.map(storedStep);
    try {
      (sink as DecisionSink & { appendSync: NonNullable<DecisionSink["appendSync"]> }).appendSync(records);
    } catch (err) {
      return items.map((i) => {
        if (i.records.length === 0) return storedStep(i);
        if (i.unrecorded) return i.unrecorded(err);
        throw err;
      });
    }
    return items.map(storedStep);
  }

  /** Stop tracking a request whose answer will not come (cancelled, or its exchange ended). */
  forget(id: JsonRpcId): void {
    this.pending.forget(id);
  }

  /** A message from the server, parsed. */
  async fromServer(msg: unknown): Promise<GateStep> {
    return this.stepFromServer(msg);
  }

  /**
   * `fromServer`, synchronous unless a tool listing pinned new tools and they must be saved
   * (`onPinsAdded`) before the listing goes on.
   */
  stepFromServer(msg: unknown): GateStep | Promise<GateStep> {
    if (Array.isArray(msg)) return this.batchFromServer(msg);
    const m = classify(msg);
    let answers: string | undefined;
    if (m.kind === "response" && m.id !== null) answers = this.pending.answered(m.id)?.method;
    // Keys a case-insensitive client could read as `result` or `tools` (or two keys it could
    // not tell apart, or `__proto__`, which a JavaScript client may take for the object's own
    // members) could carry a list the gate never saw: not passed on.
    if (serverAmbiguity(msg)) {
      if (m.kind !== "response" || m.id === null) return DROPPED;
      const why =
        "assay gate: the server's answer has keys a client could read otherwise (differing only in case, or `__proto__`); it was not passed on";
      return { forward: true, why: "rewritten", replacement: errorResponse(m.id, RPC.internalError, why) };
    }
    // Any message carrying a tool list is filtered and pinned, not only answers to the tools/list
    // requests seen, and whatever its `jsonrpc` or `id`: ids can collide (clients sharing one
    // gate), the request may have been missed, and a lenient client may take a message the gate
    // calls invalid; an unfiltered list must not slip through any of these ways.
    const result = isRecord(msg) ? msg.result : undefined;
    const listing = answers === "tools/list" || (isRecord(result) && Array.isArray(result.tools));
    return listing ? this.lists.step(msg as { result?: { tools?: unknown } }) : PASS;
  }

  /** Error answers for every client request still waiting when the server went away. */
  serverGone(why: string): unknown[] {
    return this.pending.drain().map((p) => errorResponse(p.id, RPC.serverGone, why));
  }

  /**
   * The answer to a client batch: each member is matched to its request and a member carrying a
   * tool list is filtered and pinned, as it would be on its own. JSON-RPC 2.0 never sends an
   * empty batch answer: a batch none of whose members goes on is dropped whole.
   */
  private batchFromServer(items: unknown[]): GateStep | Promise<GateStep> {
    const steps = items.map((i) => this.stepFromServer(i));
    const combine = (done: GateStep[]): GateStep => {
      if (done.every((s) => s.forward && s.replacement === undefined)) return PASS;
      const kept = done.flatMap((s, i) =>
        s.forward ? [s.replacement === undefined ? items[i] : s.replacement] : [],
      );
      return kept.length === 0 ? DROPPED : { forward: true, why: "rewritten", replacement: kept };
    };
    return steps.some((s) => s instanceof Promise)
      ? Promise.all(steps).then(combine)
      : combine(steps as GateStep[]);
  }

  private clientStep(
    msg: unknown,
    bytes: number,
    line: string | undefined,
    lossy: LossyNumber | undefined,
  ): StagedStep {
    const m = classify(msg);
    if (m.kind !== "batch") {
      const bad = envelopeAmbiguity(msg);
      if (bad !== undefined) {
        const id = m.kind === "request" || m.kind === "invalid" ? m.id : undefined;
        return this.reject("invalid_message", id, bad, bytes);
      }
    }
    switch (m.kind) {
      case "request":
        if (m.method === "tools/call")
          return this.toolCall(msg as Record<string, unknown>, m.id, line, lossy);
        if (disguisedToolCall(m.method)) {
          const message = `method \`${m.method}\` is refused: it is spelled like \`tools/call\` but is not it`;
          return this.reject("invalid_message", m.id, message, bytes);
        }
        this.pending.track(m.id, m.method);
        return PASS_STAGED;
      case "notification":
        if (m.method === "tools/call" || disguisedToolCall(m.method)) {
          // Without an id it could be neither answered nor told apart in the log: never forwarded.
          const message = `a \`${m.method}\` notification (no id) is refused: tool calls must be requests`;
          return this.reject("invalid_message", undefined, message, bytes);
        }
        // A cancelled request gets no answer from the server: stop waiting for one.
        // Forgotten when it is carried out, after the calls staged before it (the same chunk may
        // hold the call it cancels, and that call is waited for only once its record is stored).
        if (m.method === "notifications/cancelled") {
          const rid = (m.params as { requestId?: unknown } | undefined)?.requestId;
          if (typeof rid === "string" || typeof rid === "number")
            return { step: PASS, records: [], recorded: () => this.pending.forget(rid) };
        }
        return PASS_STAGED;
      case "response":
        return PASS_STAGED;
      case "batch":
        return this.batch(msg as unknown[], bytes);
      case "invalid":
        return this.reject("invalid_message", m.id, `invalid JSON-RPC message: ${m.reason}`, bytes);
    }
  }

  private toolCall(
    msg: Record<string, unknown>,
    id: JsonRpcId,
    line: string | undefined,
    lossy: LossyNumber | undefined,
  ): StagedStep {
    const params = msg.params as Record<string, unknown> | undefined;
    const tool = typeof params?.name === "string" ? params.name : null;
    const meta =
      params && typeof params._meta === "object" && params._meta !== null ? params._meta : undefined;
    const t0 = this.clock.monotonicNs();
    const decision = decideCall(
      this.policy,
      this.session,
      this.context,
      this.opts.pins,
      msg,
      lossy,
      this.opts.plan,
    );
    const latencyUs = Number(this.clock.monotonicNs() - t0) / 1000;
    const denied = decision.effect === "deny";
    const outcome: GateOutcome = !denied ? "forwarded" : this.opts.dryRun ? "would_deny" : "denied";
    const records = this.records.decision(decision, id, tool, params, meta, outcome, latencyUs);
    // Fail closed: a call that could not be recorded is not forwarded.
    const unrecorded = (err: unknown): GateStep => unrecordedStep(id, err);
    if (outcome === "denied") {
      const structured = tool === null || !this.lists.hasOutputSchema(tool);
      const reply = denyReply(this.opts.denyMode, id, tool, decision, structured);
      return { step: { forward: false, why: "denied", reply }, records, unrecorded };
    }
    // Forward the call as it was parsed and decided, not its original bytes: a frame with a
    // duplicate key ({"name": "exec", "name": "read_file"}) must not reach a server whose
    // parser keeps a different copy than the one the policy saw. It is waited for only once
    // its record is stored (a refused duplicate id must not replace the entry it collides with).
    return {
      step: { forward: true, why: "call", replacement: msg },
      records,
      unrecorded,
      recorded: () => this.pending.track(id, "tools/call"),
      line,
    };
  }

  private batch(items: unknown[], bytes: number): StagedStep {
    // MCP no longer sends batches; one carrying a tool call would need every member decided
    // and recorded as one unit. Refuse those, and those with a member the gate would refuse on
    // its own (invalid, nested); pass the rest.
    const refused = batchRefusal(items);
    if (refused === undefined) {
      for (const i of items) {
        const k = classify(i);
        if (k.kind === "request") this.pending.track(k.id, k.method);
      }
      return PASS_STAGED;
    }
    const { reason, message } = refused;
    return withReplies(this.reject(reason, undefined, message, bytes), requestIds(items), message);
  }

  private reject(
    reason: FrameRejectedData["reason"],
    id: JsonRpcId | ExactNumber | undefined,
    message: string,
    bytes: number,
  ): StagedStep {
    return refusal(reason, id, message, this.records.rejected(reason, id, message, bytes));
  }
}
