import type { AnyGateEvent } from "../records/decision-event.js";

/**
 * Why a step is what it is, so a transport acts on the gate's reason, never on the shape of its
 * answer (a JSON-RPC error code):
 * - `pass`: not the gate's business; goes on (from the client: as the gate parsed it).
 * - `call`: a `tools/call`, decided and recorded; goes on (allowed, or `would_deny` in a dry run).
 * - `denied`: a `tools/call` the policy denied; the gate answers for the server.
 * - `unrecorded`: a `tools/call` whose record could not be stored; refused with `-32603` (fail closed).
 * - `refused`: a frame the gate would not read or accept (unparsable, invalid, a batch with a
 *   call...); answered with a JSON-RPC error when it has an id to answer.
 * - `rewritten`: a server message the gate changed (a filtered tool list, an answer replaced by an
 *   error); goes on as `replacement`.
 * - `dropped`: a server message not passed on at all, a batch none of whose members goes on included.
 */
export type StepWhy = "pass" | "call" | "denied" | "unrecorded" | "refused" | "rewritten" | "dropped";

/**
 * What to do with one message. `forward`: pass it on, as received unless `replacement` is set.
 * `reply`: answer the side it came from (the gate speaks for the other side); an array holds one
 * answer per request of a refused batch. `why`: the reason (StepWhy).
 */
export interface GateStep {
  forward: boolean;
  replacement?: unknown;
  reply?: unknown;
  why: StepWhy;
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
  /**
   * Set when the gate refused the frame: the JSON-RPC error code and message of its answer, for a
   * transport that must answer even a frame without an id (HTTP answers every POST).
   */
  refusal?: { code: number; message: string };
}

export const PASS: GateStep = Object.freeze({ forward: true, why: "pass" });
export const PASS_STAGED: StagedStep = Object.freeze({ step: PASS, records: [] });
export const DROPPED: GateStep = Object.freeze({ forward: false, why: "dropped" });

/** The step of a message whose records were stored (telling it so first). */
export function storedStep(staged: StagedStep): GateStep {
  staged.recorded?.();
  return staged.step;
}

/** The one-line text of a failure, for answers and warnings. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
