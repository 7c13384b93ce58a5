import { randomUUID } from "node:crypto";
import { type Clock, systemClock } from "../lib/clock.js";
import { shapeCall } from "../policy/call-shape.js";
import type { DecisionContext } from "../policy/decide.js";
import type { Decision } from "../policy/decision.js";
import type { CompiledPolicy } from "../policy/ir.js";
import { PolicySession } from "../policy/session.js";
import { toolDeniedOutright } from "../policy/tool-verdict.js";
import {
  argumentsDigest,
  denyText,
  disguisedToolCall,
  driftDecision,
  gateDeny,
  toolCallId,
} from "./call-facts.js";
import {
  type AnyGateEvent,
  DECISION_EVENT_TYPE,
  type DecisionEventData,
  FRAME_REJECTED_EVENT_TYPE,
  type FrameRejectedData,
  GATE_STARTED_EVENT_TYPE,
  type GateOutcome,
  type GateStartedData,
} from "./decision-event.js";
import type { DecisionSink } from "./decision-log.js";
import {
  ExactNumber,
  type ExactSource,
  encodeJson,
  exactSource,
  inexactIds,
  type LossyNumber,
  lossyNumber,
  scanJsonText,
} from "./exact-json.js";
import { classify, errorResponse, type JsonRpcId, RPC, resultResponse } from "./jsonrpc.js";
import { ambiguousKey, ambiguousKeyDeep } from "./key-folding.js";
import type { ListedTool, PinSet, PinsDoc } from "./pins.js";

export type DenyMode = "result" | "error";

export interface GateOptions {
  policy: CompiledPolicy;
  /** Where decision records go; none means decisions are made but not recorded. */
  sink?: DecisionSink;
  /** How a denied call is answered: a tool result with isError (default) or a JSON-RPC error. */
  denyMode?: DenyMode;
  /** Decide and record `would_deny`, but forward every call. */
  dryRun?: boolean;
  /** Remove tools the policy denies outright from `tools/list` results (default true). */
  filterTools?: boolean;
  /** Tool pins; drifted tools are denied with `tool_drift`. */
  pins?: PinSet;
  /**
   * Called when a `tools/list` pinned tools not seen before (or completed a version 1 pin), with
   * every pin: to save them (`pinsSaver`). The listing goes on once it resolves.
   */
  onPinsAdded?: (doc: PinsDoc) => Promise<void>;
  /** Names the gate in records (`source`). */
  label?: string;
  /** What `context` holds for every decision of this gate (e.g. `{env: "prod"}`). */
  context?: DecisionContext;
  sessionId?: string;
  /** Put the call's arguments in decision records (default: only their digest). */
  logArguments?: boolean;
  clock?: Clock;
}

/**
 * What to do with one message. `forward`: pass it on, as received unless `replacement` is set.
 * `reply`: answer the side it came from (the gate speaks for the other side).
 */
export interface GateStep {
  forward: boolean;
  replacement?: unknown;
  reply?: unknown;
}

/**
 * A message decided, with the records that must be stored before `step` is carried out: the
 * gate decides synchronously, and the transport stores the records (one message's, or a whole
 * chunk's at once) before it forwards or answers anything.
 */
export interface StagedStep {
  step: GateStep;
  records: AnyGateEvent[];
  /** What happens instead of `step` when the records could not be stored (fail closed). */
  unrecorded?: (err: unknown) => GateStep;
  /** Called once the records are stored, before `step` is carried out. */
  recorded?: () => void;
  /**
   * The JSON text the message goes on as, when it came as text (`stageFromClient`'s `source`):
   * encoded before anything is recorded, with every number as the client wrote it.
   */
  line?: string;
}

const PASS: GateStep = Object.freeze({ forward: true });
const PASS_STAGED: StagedStep = Object.freeze({ step: PASS, records: [] });
const MAX_PENDING = 10_000;
/**
 * Client messages nested deeper than this are refused before anything is decided: no MCP
 * message comes near it, and far deeper ones (20,000 levels) parse but cannot be re-encoded.
 */
export const MAX_MESSAGE_DEPTH = 512;
const TRACEPARENT = /^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;
/** Where a denied result carries the decision for clients that read `_meta`. */
export const DECISION_META_KEY = "dev.assay/decision";

/**
 * The MCP gate, independent of any transport: every `tools/call` from the client is decided
 * (and recorded) before anything is forwarded; `tools/list` results are filtered and pinned;
 * everything else passes unchanged. The stdio wrapper, the in-process transport and the
 * Streamable HTTP proxy all drive this one class.
 */
export class McpGate {
  readonly sessionId: string;
  readonly policy: CompiledPolicy;
  private readonly session: PolicySession;
  private readonly source: string;
  private readonly clock: Clock;
  private readonly context: DecisionContext;
  /** Client requests forwarded and not answered yet, by id (a Map keeps `1` and `"1"` apart). */
  private readonly pending = new Map<JsonRpcId, PendingRequest>();
  /** Tools whose last listing declared an outputSchema: a deny result must not carry structuredContent. */
  private readonly withOutputSchema = new Set<string>();
  private seq = 0;

  constructor(private readonly opts: GateOptions) {
    this.policy = opts.policy;
    this.session = new PolicySession(opts.policy);
    this.sessionId = opts.sessionId ?? randomUUID();
    this.source = `urn:assay:mcp-gate:${encodeURIComponent(opts.label ?? "mcp")}`;
    this.clock = opts.clock ?? systemClock;
    this.context = opts.context ?? {};
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
    const facts = source === undefined ? { depth: nestingDepth(msg), inexact: false } : scanJsonText(source);
    let exact: ExactSource | undefined;
    if (source !== undefined) {
      try {
        exact = exactSource(source, facts);
      } catch (err) {
        const message = `the message could not be read: ${text(err)}`;
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
        line = encodeJson(msg, exact, msg);
      } catch (err) {
        const message = `the message could not be re-encoded: ${text(err)}`;
        return this.reject("invalid_message", topLevelId(msg), message, bytes);
      }
    }
    const lossy = exact === undefined ? undefined : lossyArgument(exact.twin);
    const staged = this.clientStep(msg, bytes, line, lossy);
    const step = staged.step;
    // A forwarded tools/call is already staged with its replacement and line (no copy per call).
    if (!step.forward || step.replacement !== undefined) return staged;
    // What goes on is always the message as parsed and decided, never the client's bytes.
    const out: StagedStep = { ...staged, step: { ...step, replacement: msg } };
    if (line !== undefined) out.line = line;
    return out;
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
    if (records.length === 0) return items.map(stored);
    try {
      (sink as DecisionSink & { appendSync: NonNullable<DecisionSink["appendSync"]> }).appendSync(records);
    } catch (err) {
      return items.map((i) => {
        if (i.records.length === 0) return stored(i);
        if (i.unrecorded) return i.unrecorded(err);
        throw err;
      });
    }
    return items.map(stored);
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
        this.track(m.id, m.method);
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
            return { step: PASS, records: [], recorded: () => this.forget(rid) };
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

  /** Stop tracking a request whose answer will not come (cancelled, or its exchange ended). */
  forget(id: JsonRpcId): void {
    this.pending.delete(id);
  }

  private track(id: JsonRpcId, method: string): void {
    // Bounded: a client that never reads answers (or a server that never sends them) cannot
    // grow this without limit; the oldest entries only lose their "server gone" error.
    if (this.pending.size >= MAX_PENDING) {
      const oldest = this.pending.keys().next().value;
      if (oldest !== undefined) this.pending.delete(oldest);
    }
    this.pending.set(id, { id, method });
  }

  /** A client frame that could not be read as JSON (or was too large to try). */
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
    const result = isRecord(msg) ? msg.result : undefined;
    // Keys a case-insensitive client could read as `result` or `tools` (or two keys it could
    // not tell apart) could carry a list the gate never saw: not passed on.
    const ambiguous =
      isRecord(msg) &&
      (ambiguousKey(msg, ENVELOPE_KEYS) !== undefined ||
        (isRecord(result) && ambiguousKey(result, LIST_RESULT_KEYS) !== undefined));
    let pending: PendingRequest | undefined;
    if (m.kind === "response" && m.id !== null) {
      pending = this.pending.get(m.id);
      if (pending) this.pending.delete(m.id);
    }
    if (ambiguous) {
      const id = m.kind === "response" || m.kind === "request" ? m.id : null;
      if (m.kind !== "response" || id === null) return { forward: false };
      const why = "assay gate: the server's answer has keys that differ only in case; it was not passed on";
      return { forward: true, replacement: errorResponse(id, RPC.internalError, why) };
    }
    // Any message carrying a tool list is filtered and pinned, not only answers to the tools/list
    // requests seen, and whatever its `jsonrpc` or `id`: ids can collide (clients sharing one
    // gate), the request may have been missed, and a lenient client may take a message the gate
    // calls invalid; an unfiltered list must not slip through any of these ways.
    const listing = pending?.method === "tools/list" || (isRecord(result) && Array.isArray(result.tools));
    return listing ? this.toolsList(msg as { result?: { tools?: unknown } }) : PASS;
  }

  /**
   * The answer to a client batch: each member is matched to its request and a member carrying a
   * tool list is filtered and pinned, as it would be on its own.
   */
  private batchFromServer(items: unknown[]): GateStep | Promise<GateStep> {
    const steps = items.map((i) => this.stepFromServer(i));
    const combine = (done: GateStep[]): GateStep => {
      if (done.every((s) => s.forward && s.replacement === undefined)) return PASS;
      const kept = done.flatMap((s, i) =>
        s.forward ? [s.replacement === undefined ? items[i] : s.replacement] : [],
      );
      return { forward: true, replacement: kept };
    };
    return steps.some((s) => s instanceof Promise)
      ? Promise.all(steps).then(combine)
      : combine(steps as GateStep[]);
  }

  /** Error answers for every client request still waiting when the server went away. */
  serverGone(why: string): unknown[] {
    const out = [...this.pending.values()].map((p) => errorResponse(p.id, RPC.serverGone, why));
    this.pending.clear();
    return out;
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
    const decision = this.decideCall(msg, tool, params, lossy);
    const latencyUs = Number(this.clock.monotonicNs() - t0) / 1000;
    const denied = decision.effect === "deny";
    const outcome: GateOutcome = !denied ? "forwarded" : this.opts.dryRun ? "would_deny" : "denied";

    // Fields listed, not spread: spreading the decision costs ~10 µs per call on Node 20 (bench:gate).
    const data: DecisionEventData = {
      effect: decision.effect,
      rule_id: decision.rule_id,
      reason_code: decision.reason_code,
      message: decision.message,
      violations: decision.violations,
      policy_digest: decision.policy_digest,
      tool,
      tool_call_id: toolCallId(meta) ?? `${this.sessionId}:${typeof id}:${id}`,
      request_id: id,
      session_id: this.sessionId,
      outcome,
      dry_run: this.opts.dryRun === true,
      latency_us: Math.round(latencyUs * 1000) / 1000,
      arguments_digest: argumentsDigest(params?.arguments),
    };
    if (this.opts.logArguments && isRecord(params) && "arguments" in params)
      data.arguments = params.arguments;
    const tp = (meta as Record<string, unknown> | undefined)?.traceparent;
    if (typeof tp === "string" && TRACEPARENT.test(tp)) data.traceparent = tp;

    const records = this.record(DECISION_EVENT_TYPE, data, tool ?? undefined);
    // Fail closed: a call that could not be recorded is not forwarded.
    const unrecorded = (err: unknown): GateStep => {
      return {
        forward: false,
        reply: errorResponse(
          id,
          RPC.internalError,
          `assay gate: the decision could not be recorded: ${text(err)}`,
        ),
      };
    };
    if (outcome === "denied") {
      return { step: { forward: false, reply: this.denyReply(id, tool, decision) }, records, unrecorded };
    }
    // Forward the call as it was parsed and decided, not its original bytes: a frame with a
    // duplicate key ({"name": "exec", "name": "read_file"}) must not reach a server whose
    // parser keeps a different copy than the one the policy saw. It is waited for only once
    // its record is stored (a refused duplicate id must not replace the entry it collides with).
    return {
      step: { forward: true, replacement: msg },
      records,
      unrecorded,
      recorded: () => this.track(id, "tools/call"),
      line,
    };
  }

  private decideCall(
    msg: Record<string, unknown>,
    tool: string | null,
    params: Record<string, unknown> | undefined,
    lossy: LossyNumber | undefined,
  ): Decision {
    try {
      const ambiguous = callAmbiguity(params);
      if (ambiguous) return gateDeny(this.policy, "call_invalid", ambiguous.path, ambiguous.message);
      if (lossy) {
        // The server gets the number as written; the policy would decide on another value.
        const message = `number \`${lossy.text}\` at \`${lossy.pointer}\` cannot be decided exactly (a double holds ${String(Number(lossy.text))}): send it as a string`;
        return gateDeny(this.policy, "call_invalid", lossy.pointer, message);
      }
      // A tool this session has not listed is decided on its pin and the latest listing any
      // session of the server saw (PinSet.drift).
      const drift = tool === null ? undefined : this.opts.pins?.drift(tool);
      if (drift) return driftDecision(this.policy, tool as string, drift);
      return this.session.decide(msg, this.context);
    } catch (err) {
      // decide() denies rather than throws; this is the net under it.
      return gateDeny(
        this.policy,
        "evaluation_error",
        "",
        `the gate could not evaluate the call: ${text(err)}`,
      );
    }
  }

  private denyReply(id: JsonRpcId, tool: string | null, d: Decision): unknown {
    const toolLevel = d.reason_code === "tool_not_allowed" || d.reason_code === "tool_denied";
    if (this.opts.denyMode === "error") {
      // A tool the allowlist does not admit looks exactly like a tool the server does not have,
      // as the official TypeScript SDK's McpServer answers one (a tool result, not an error).
      if (toolLevel) return resultResponse(id, unknownToolResult(tool));
      return errorResponse(id, RPC.policyDenied, denyText(d), d);
    }
    const result: Record<string, unknown> = {
      content: [{ type: "text", text: denyText(d) }],
      isError: true,
      _meta: { [DECISION_META_KEY]: d },
    };
    // Clients validate structuredContent against a tool's outputSchema (the SDK does even on errors).
    if (tool === null || !this.withOutputSchema.has(tool)) result.structuredContent = d;
    return resultResponse(id, result);
  }

  private toolsList(msg: { result?: { tools?: unknown } }): GateStep | Promise<GateStep> {
    const tools = msg.result?.tools;
    if (!Array.isArray(tools)) return PASS;
    const listed = tools.filter(
      (t): t is ListedTool =>
        typeof t === "object" && t !== null && typeof (t as ListedTool).name === "string",
    );
    for (const t of listed) {
      if ((t as { outputSchema?: unknown }).outputSchema !== undefined) this.withOutputSchema.add(t.name);
      else this.withOutputSchema.delete(t.name);
    }
    let saving: Promise<void> | undefined;
    if (this.opts.pins) {
      const pins = this.opts.pins;
      pins.observe(listed);
      // Every pin not stored yet, this listing's and any an earlier save failed to store.
      const unsaved = pins.unsaved();
      if (unsaved.length > 0 && this.opts.onPinsAdded)
        saving = this.opts.onPinsAdded(pins.toDoc()).then(() => pins.saved(unsaved));
    }
    // A drifted tool is hidden even when filtering is off: its changed description is the attack.
    const filter = this.opts.filterTools !== false;
    const kept = tools.filter((t) => {
      if (typeof t !== "object" || t === null || typeof (t as ListedTool).name !== "string") return !filter;
      // A tool whose keys a case-insensitive client could read otherwise (`Description`) is hidden.
      if (ambiguousKey(t, TOOL_KEYS) !== undefined) return false;
      const name = (t as ListedTool).name;
      // A name no call can carry (empty, too long) is a tool no call could be allowed for.
      if (!shapeCall({ tool: name }, this.policy.limits).ok) return false;
      if (this.opts.pins?.drift(name)) return false;
      return !filter || toolDeniedOutright(this.policy, name, this.context) === undefined;
    });
    // Always the gate's own encoding of the list, never the server's bytes: a key given twice
    // ({"description": "evil", "description": "ok"}) must reach the client as the gate read it.
    const step: GateStep = {
      forward: true,
      replacement: kept.length === tools.length ? msg : { ...msg, result: { ...msg.result, tools: kept } },
    };
    return saving ? saving.then(() => step) : step;
  }

  private batch(items: unknown[], bytes: number): StagedStep {
    // MCP no longer sends batches; one carrying a tool call would need every member decided
    // and recorded as one unit. Refuse those, and those with a member the gate would refuse on
    // its own (invalid, nested); pass the rest.
    let refused: "batch_with_tool_call" | "invalid_message" | undefined;
    for (const i of items) {
      const k = classify(i);
      if (k.kind === "batch" || k.kind === "invalid" || envelopeAmbiguity(i) !== undefined)
        refused ??= "invalid_message";
      else if (
        (k.kind === "request" || k.kind === "notification") &&
        (k.method === "tools/call" || disguisedToolCall(k.method))
      )
        refused = "batch_with_tool_call";
    }
    if (refused === undefined) {
      for (const i of items) {
        const k = classify(i);
        if (k.kind === "request") this.track(k.id, k.method);
      }
      return PASS_STAGED;
    }
    const message =
      refused === "batch_with_tool_call"
        ? "a JSON-RPC batch carrying tools/call is not accepted by the gate; send calls one per message"
        : "a JSON-RPC batch with an invalid or nested member is not accepted by the gate";
    const ids = items.flatMap((i) => {
      const k = classify(i);
      return k.kind === "request" ? [k.id] : [];
    });
    return withReplies(this.reject(refused, undefined, message, bytes), ids, message);
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
    const data: GateStartedData = {
      session_id: this.sessionId,
      policy_digest: this.policy.digest,
      server: [...server],
      dry_run: this.opts.dryRun === true,
    };
    return { step: PASS, records: this.record(GATE_STARTED_EVENT_TYPE, data) };
  }

  private reject(
    reason: FrameRejectedData["reason"],
    id: JsonRpcId | ExactNumber | undefined,
    message: string,
    bytes: number,
  ): StagedStep {
    const data: FrameRejectedData = {
      // An id the gate cannot hold exactly is named in the message, not recorded rounded.
      request_id: id instanceof ExactNumber ? null : (id ?? null),
      session_id: this.sessionId,
      reason,
      message,
      bytes,
    };
    const records = this.record(FRAME_REJECTED_EVENT_TYPE, data);
    const step = (note: string): GateStep => {
      if (id === undefined) return { forward: false };
      const code = reason === "unparsable" || reason === "undecodable" ? RPC.parseError : RPC.invalidRequest;
      return { forward: false, reply: errorResponse(id, code, `assay gate: ${note}`) };
    };
    // The frame is refused either way; a record that could not be stored is only mentioned.
    return {
      step: step(message),
      records,
      unrecorded: (err) => step(`${message}; it could not be recorded: ${text(err)}`),
    };
  }

  /** The record of one event, as a list: empty when there is no sink. */
  private record(
    type: AnyGateEvent["type"],
    data: DecisionEventData | FrameRejectedData | GateStartedData,
    subject?: string,
  ): AnyGateEvent[] {
    if (!this.opts.sink) return [];
    // The start record stands apart from the numbered records, which count calls and frames.
    const id =
      type === GATE_STARTED_EVENT_TYPE ? `${this.sessionId}:started` : `${this.sessionId}:${this.seq++}`;
    const time = this.clock.nowIso();
    // Two literals rather than a spread: the members in the same order, without an object per call.
    const event =
      subject === undefined
        ? {
            specversion: "1.0",
            id,
            source: this.source,
            type,
            time,
            datacontenttype: "application/json",
            data,
          }
        : {
            specversion: "1.0",
            id,
            source: this.source,
            type,
            time,
            datacontenttype: "application/json",
            subject,
            data,
          };
    return [event as AnyGateEvent];
  }
}

/** The members of a JSON-RPC message; a key that only differs from one of them in case is refused. */
const ENVELOPE_KEYS = ["jsonrpc", "id", "method", "params", "result", "error"] as const;
/** The members of a tool list result and of a listed tool that clients read. */
const LIST_RESULT_KEYS = ["tools", "nextCursor", "_meta"] as const;
const TOOL_KEYS = [
  "name",
  "title",
  "description",
  "inputSchema",
  "outputSchema",
  "annotations",
  "icons",
  "_meta",
] as const;
/** The members of `tools/call` params a server reads. */
const CALL_PARAM_KEYS = ["name", "arguments", "_meta"] as const;

/** Why a client message's own keys are ambiguous to a case-insensitive decoder, if they are. */
function envelopeAmbiguity(msg: unknown): string | undefined {
  if (!isRecord(msg)) return undefined;
  const bad = ambiguousKey(msg, ENVELOPE_KEYS);
  return bad === undefined
    ? undefined
    : `key \`${bad}\` is refused: a server that matches keys ignoring case could read it as another member`;
}

/** Keys of a call's params (and anything inside them) that a case-insensitive server could read otherwise. */
function callAmbiguity(params: unknown): { path: string; message: string } | undefined {
  if (!isRecord(params)) return undefined;
  const path = ambiguousKeyDeep(params, CALL_PARAM_KEYS);
  if (path === undefined) return undefined;
  return {
    path: `/params${path}`,
    message: `key at \`/params${path}\` is refused: a server that matches keys ignoring case could read it as another key than the policy did`,
  };
}

/**
 * What the official TypeScript SDK's `McpServer` (1.x; server-everything and server-filesystem
 * use it) answers for a tool it does not have: the McpError it throws (-32602, "Tool <name> not
 * found"), caught and returned as a tool result with `isError`.
 */
export function unknownToolResult(tool: string | null): {
  content: { type: "text"; text: string }[];
  isError: true;
} {
  return {
    content: [{ type: "text", text: `MCP error ${RPC.invalidParams}: Tool ${tool} not found` }],
    isError: true,
  };
}

/** A refused batch: each of its requests gets an error (`reject` answers one id at most). */
function withReplies(
  staged: StagedStep,
  ids: readonly (JsonRpcId | ExactNumber)[],
  message: string,
): StagedStep {
  const replies = ids.map((id) => errorResponse(id, RPC.invalidRequest, `assay gate: ${message}`));
  const add = (step: GateStep): GateStep => ({ ...step, reply: replies.length > 0 ? replies : undefined });
  return {
    step: add(staged.step),
    records: staged.records,
    unrecorded: (err) => add(staged.unrecorded ? staged.unrecorded(err) : staged.step),
  };
}

/** The ids of a batch's requests, as written (read from its exact twin). */
function batchIds(exact: ExactSource): (JsonRpcId | ExactNumber)[] {
  const out: (JsonRpcId | ExactNumber)[] = [];
  for (const m of exact.twin as unknown[]) {
    if (!isRecord(m) || typeof m.method !== "string" || !("id" in m)) continue;
    const id = m.id;
    if (id instanceof ExactNumber || typeof id === "string" || typeof id === "number") out.push(id);
  }
  return out;
}

/** How deep objects and arrays nest in `msg` (0 for a scalar); stops counting past MAX_MESSAGE_DEPTH. */
function nestingDepth(msg: unknown): number {
  if (msg === null || typeof msg !== "object") return 0;
  let max = 0;
  const stack: [object, number][] = [[msg, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [object, number];
    if (d > max) max = d;
    if (max > MAX_MESSAGE_DEPTH) return max;
    for (const c of Array.isArray(v) ? v : Object.values(v))
      if (c !== null && typeof c === "object") stack.push([c, d + 1]);
  }
  return max;
}

/** The id of a request refused for its shape, when it has a usable one (a response is not answered). */
function topLevelId(msg: unknown): JsonRpcId | undefined {
  if (!isRecord(msg) || typeof msg.method !== "string") return undefined;
  const id = msg.id;
  return typeof id === "string" || (typeof id === "number" && Number.isFinite(id)) ? id : undefined;
}

/** A number in a `tools/call`'s arguments whose value a double cannot hold (read from the exact twin). */
function lossyArgument(twin: unknown): LossyNumber | undefined {
  if (!isRecord(twin) || twin.method !== "tools/call" || !isRecord(twin.params)) return undefined;
  const params = twin.params;
  return Object.hasOwn(params, "arguments") ? lossyNumber(params.arguments, "/arguments") : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function stored(i: StagedStep): GateStep {
  i.recorded?.();
  return i.step;
}

interface PendingRequest {
  id: JsonRpcId;
  method: string;
}

function text(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
