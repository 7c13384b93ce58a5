import { printable } from "../lib/errors.js";
import type { JsonRpcId } from "../records/decision-event.js";
import { encodeJson, exactSource } from "./exact-json.js";
import type { Frame } from "./frame-batcher.js";
import type { McpGate } from "./gate.js";
import { errorText, type GateStep, type StagedStep } from "./gate-step.js";
import { classify, errorResponse, peekId, RPC } from "./jsonrpc.js";
import { topLevelId } from "./message-shape.js";

// "Parse the frame, decide, record, act in order", once for every transport: the stdio gate
// (lines), the HTTP proxy (bodies, JSON answers and SSE events) and the in-process
// GatedTransport (parsed messages) each hand their frames to these functions, and each carries
// out the steps in its own way (a write, an HTTP answer, a call to the inner transport).

/**
 * A client frame: a line (or body) of text, or why one was refused unread (frame-batcher.ts), or
 * a message a transport received already parsed (the in-process GatedTransport).
 */
export type ClientFrame = Frame | { kind: "message"; msg: unknown; bytes: number };

/** Where client frames come from, as warnings and records name them. */
export interface FrameSource {
  /** What one frame is called in records, answers and warnings: `frame` (stdio), `body` (HTTP). */
  noun: string;
  /** Where frames come from, for warnings (` from the client`), or empty. */
  from: string;
  /** Frames over this size are refused unread (the transport stops reading them). */
  maxBytes: number;
  /** Where the gate reports what it refused. */
  warn: (line: string) => void;
}

/**
 * Decide one client frame (nothing is stored or sent yet): a line is parsed and staged with its
 * text, so the line to forward is encoded before anything is recorded; a frame that could not be
 * read is refused with a record. A frame whose handling throws is refused alone. Every refusal
 * is reported through `src.warn`.
 */
export function stageFrame(gate: McpGate, f: ClientFrame, src: FrameSource): StagedStep {
  try {
    return stageOne(gate, f, src);
  } catch (err) {
    const message = `the gate could not process the ${src.noun}: ${errorText(err)}`;
    src.warn(`refused a ${src.noun}${src.from}: ${logText(message)}`);
    // The id, so the refusal is answered (a request left unanswered would hang its client).
    const id = f.kind === "message" ? idOf(f.msg) : peekId(f.kind === "line" ? f.text : f.prefix);
    return gate.stageRejectFrame("invalid_message", id, message, f.bytes);
  }
}

/** A message's top-level request id, if it has a usable one and reading it does not throw. */
function idOf(msg: unknown): JsonRpcId | undefined {
  try {
    return topLevelId(msg);
  } catch {
    return undefined;
  }
}

/** Longest refusal reason a warning shows; the record keeps all of it. */
const MAX_LOGGED_CHARS = 300;

/**
 * A refusal's reason as one line of the gate's stderr: it quotes what the client sent (keys,
 * methods, ids), so control characters are escaped (a client must not forge a line of the gate's
 * log) and its length is capped (nor flood it).
 */
export function logText(message: string): string {
  const shown = message.length > MAX_LOGGED_CHARS ? `${message.slice(0, MAX_LOGGED_CHARS)}…` : message;
  return printable(shown);
}

function stageOne(gate: McpGate, f: ClientFrame, src: FrameSource): StagedStep {
  const { noun, from } = src;
  switch (f.kind) {
    case "message": {
      const staged = gate.stageFromClient(f.msg, f.bytes);
      if (staged.refusal !== undefined)
        src.warn(`refused a ${noun}${from}: ${logText(staged.refusal.message)}`);
      return staged;
    }
    case "line": {
      let msg: unknown;
      try {
        msg = JSON.parse(f.text);
      } catch (err) {
        const message = `unparsable ${noun}: ${errorText(err)}`;
        const staged = gate.stageRejectFrame("unparsable", peekId(f.text), message, f.bytes);
        src.warn(`refused an unparsable ${noun}${from}${staged.step.reply ? "" : " (no id to answer)"}`);
        return staged;
      }
      const staged = gate.stageFromClient(msg, f.bytes, f.text);
      if (staged.refusal !== undefined)
        src.warn(`refused a ${noun}${from}: ${logText(staged.refusal.message)}`);
      return staged;
    }
    case "oversize":
      src.warn(`refused a ${f.bytes} byte ${noun}${from} (limit ${src.maxBytes})`);
      return gate.stageRejectFrame(
        "oversize",
        peekId(f.prefix),
        `${noun} of ${f.bytes} bytes is over the ${src.maxBytes} byte limit`,
        f.bytes,
      );
    case "undecodable":
      src.warn(`refused a ${noun}${from} that is not valid UTF-8`);
      return gate.stageRejectFrame("undecodable", peekId(f.prefix), `${noun} is not valid UTF-8`, f.bytes);
  }
}

/**
 * Store the records of staged client frames, then carry out their steps in order: when the sink
 * stores synchronously, one write for them all and one `act` for the lot (no promise); otherwise
 * one by one, each carried out once its records are stored.
 */
export function commitFrames(
  gate: McpGate,
  staged: StagedStep[],
  act: (steps: readonly GateStep[], staged: readonly StagedStep[]) => void,
): void | Promise<void> {
  if (gate.syncCommit) {
    act(gate.commitSync(staged), staged);
    return;
  }
  return (async () => {
    for (const s of staged) act([await gate.commit(s)], [s]);
  })();
}

/** Store one staged message's records and return its step: synchronously when the sink allows. */
export function commitOne(gate: McpGate, staged: StagedStep): GateStep | Promise<GateStep> {
  return gate.syncCommit ? (gate.commitSync([staged])[0] as GateStep) : gate.commit(staged);
}

/**
 * The warning for a call refused because its record could not be stored (fail closed): without
 * it, a full disk shows only in the answers the client gets. Undefined for any other step.
 */
export function unrecordedWarning(step: GateStep): string | undefined {
  if (step.why !== "unrecorded") return undefined;
  const message = (step.reply as { error?: { message?: unknown } } | undefined)?.error?.message;
  const why =
    typeof message === "string" ? message.replace(/^assay gate: /, "") : "its record could not be stored";
  return `refused a tools/call: ${logText(why)}`;
}

/** The answers a step sends back to the side its message came from, one per message. */
export function repliesOf(step: GateStep): readonly unknown[] {
  const reply = step.reply;
  if (reply === undefined) return NONE;
  return Array.isArray(reply) ? reply : [reply];
}

const NONE: readonly unknown[] = Object.freeze([]);

/**
 * A server message's text, parsed. The caller has dropped one leading byte-order mark (as
 * clients' parsers do) and passes what is left, which is also the text an unchanged message goes
 * on as; a second mark is not JSON. Undefined when it is not JSON (fail closed: it could be a
 * tool list the gate cannot filter).
 */
export function parseServerText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The text a server message goes on as, given its step: `json` (the text it was parsed from,
 * without a byte-order mark) when the gate did not change it, the gate's encoding when it did
 * (numbers it did not change keep the server's text: 64-bit ids, `1.0`), undefined when it does
 * not go on. `lineSafe`: a line holding a carriage return is re-encoded too, since JSON allows a
 * raw CR between tokens and a client that also splits lines there (Node's readline, Python's
 * text mode) would read a message the gate never saw. Throws when the message cannot be encoded.
 */
export function serverText(
  step: GateStep,
  msg: unknown,
  json: string,
  lineSafe: boolean,
): string | undefined {
  if (!step.forward) return undefined;
  const out = step.replacement ?? (lineSafe && json.includes("\r") ? msg : undefined);
  if (out === undefined) return json;
  return encodeJson(out, exactSource(json), msg);
}

/** What a parsed server message goes on as (the message itself, the gate's replacement), or undefined. */
export function serverMessage(step: GateStep, msg: unknown): unknown {
  if (!step.forward) return undefined;
  return step.replacement === undefined ? msg : step.replacement;
}

/**
 * A server message the gate could not process (a tool list whose new pins could not be saved):
 * each answer in it is replaced by an error for its request, rather than passed on unchecked.
 */
export function failureAnswers(msg: unknown, err: unknown): unknown[] {
  const out: unknown[] = [];
  for (const m of Array.isArray(msg) ? msg : [msg]) {
    const k = classify(m);
    if (k.kind === "response" && k.id !== null)
      out.push(errorResponse(k.id, RPC.internalError, `assay gate: ${errorText(err)}`));
  }
  return out;
}
