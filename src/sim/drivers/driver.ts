import type { Call, Refusal, Scenario } from "../target/types.js";

/** What a driver hands the judge for one trial. */
export type TrialTrace =
  | {
      readonly ok: true;
      readonly calls: readonly Call[];
      /** Failures the driver saw itself (a tools/call the gate refused unread), judged like violations. */
      readonly refusals?: readonly Refusal[];
      /** Appended to violation examples, e.g. the replay mutation that was applied. */
      readonly note?: string;
      /**
       * Replay `must_flag`: `calls` carry a mutation the policy must catch; `recorded` is the trace
       * before it, whose own violations are the trial's.
       */
      readonly attack?: { readonly recorded: readonly Call[] };
    }
  /** No trace: the driver, the agent or the gate failed (crash, timeout, spawn failure). */
  | { readonly ok: false; readonly error_kind: string; readonly error_message: string };

export interface TrialInput {
  readonly scenario: Scenario;
  /** 0-based trial number in the whole run. */
  readonly index: number;
  readonly seed: bigint;
}

/** Runs the agent under test for one trial. Sync drivers return the trace itself (the fast path). */
export interface TrialDriver {
  /** Trials take long enough (a process each) that progress is worth reporting after every one. */
  readonly slow: boolean;
  trace(input: TrialInput): TrialTrace | Promise<TrialTrace>;
  /** Release what the driver holds (temporary directories); called once, after the last trial. */
  close(): Promise<void>;
}

/** A trial without a trace: `error_kind` says what failed (docs/soak.md lists the kinds). */
export function infraError(error_kind: string, error_message: string): TrialTrace {
  return { ok: false, error_kind, error_message };
}
