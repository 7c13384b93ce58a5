import { type FileHandle, open } from "node:fs/promises";
import { AssayError } from "../lib/errors.js";
import { RUN_ID_PATTERN, RUNNER_SCHEMA, SDK_ENV, type SdkEventLine, type SdkEventType } from "./contract.js";

/** Who writes the SDK events: names that go into every line. */
export interface SdkEventLogOptions {
  /** The line's `source`, e.g. `openai-agents-fixture`: non-empty. */
  source: string;
  /** The agent SDK's package name, e.g. `@openai/agents`; null in the line when absent or empty. */
  sdkName?: string;
  /** That package's installed version; null in the line when absent or empty. */
  sdkVersion?: string;
  /** Where the runner's variables are read from (default: `process.env`). */
  env?: NodeJS.ProcessEnv;
}

/**
 * An agent's SDK event log (`assay.runner.sdk_event.v0`, one NDJSON line per event, `seq` from 0
 * in call order). Event methods return at once: lines are appended in order behind them, and a
 * write that fails is reported by `close()`, which every agent awaits before it exits.
 */
export interface SdkEventLog {
  /** False outside the runner (no ASSAY_RUNNER_SDK_EVENT_LOG): every event is dropped. */
  readonly enabled: boolean;
  toolCallStarted(toolCallId: string, tool: string): void;
  toolCallCompleted(toolCallId: string, tool: string): void;
  runFinished(): void;
  runFailed(): void;
  /** Waits for every line to be written and closes the file; rejects with the first write error. */
  close(): Promise<void>;
}

/**
 * Opens the SDK event log the runner named in ASSAY_RUNNER_SDK_EVENT_LOG (appending to it), or,
 * when that variable is absent, a logger that writes nothing, so the same agent runs outside
 * the runner. Throws `runner_contract_invalid` when the runner's variables are unusable (no run
 * id, another schema) or `source` is empty.
 */
export function openSdkEventLog(opts: SdkEventLogOptions): SdkEventLog {
  const env = opts.env ?? process.env;
  if (opts.source.trim() === "") throw contractError("the sdk event `source` is empty");
  const path = env[SDK_ENV.log];
  const runId = env[SDK_ENV.runId];
  const schema = env[SDK_ENV.schema];
  if (path !== undefined && path !== "") {
    if (runId === undefined || !RUN_ID_PATTERN.test(runId))
      throw contractError(`${SDK_ENV.runId} \`${runId ?? ""}\` is not a run id`);
    // The runner names the schema it reads: an agent that can only write another one stops here.
    if (schema !== undefined && schema !== RUNNER_SCHEMA.sdkEvent)
      throw contractError(`${SDK_ENV.schema} \`${schema}\` is not \`${RUNNER_SCHEMA.sdkEvent}\``);
  }
  return new EventLog(opts, path === undefined || path === "" ? undefined : path, runId ?? "");
}

function contractError(message: string): AssayError {
  return new AssayError("runner_contract_invalid", message);
}

/** Empty strings become null, as the runner reads them. */
function orNull(value: string | undefined): string | null {
  return value === undefined || value.trim() === "" ? null : value;
}

class EventLog implements SdkEventLog {
  readonly enabled: boolean;
  #seq = 0;
  #closed = false;
  #firstError: unknown;
  // INVARIANT: every write is chained on this promise, so lines land in call order; it never
  // rejects (errors are kept in #firstError), so an event nobody awaits cannot crash the agent.
  #chain: Promise<void>;
  #handle: FileHandle | undefined;

  constructor(
    private readonly opts: SdkEventLogOptions,
    private readonly path: string | undefined,
    private readonly runId: string,
  ) {
    this.enabled = path !== undefined;
    this.#chain =
      path === undefined
        ? Promise.resolve()
        : open(path, "a").then(
            (h) => {
              this.#handle = h;
            },
            (err: unknown) => this.#fail(err),
          );
  }

  toolCallStarted(toolCallId: string, tool: string): void {
    this.#event("tool_call_started", toolCallId, tool);
  }

  toolCallCompleted(toolCallId: string, tool: string): void {
    this.#event("tool_call_completed", toolCallId, tool);
  }

  runFinished(): void {
    this.#event("run_finished", null, null);
  }

  runFailed(): void {
    this.#event("run_failed", null, null);
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#chain;
    const handle = this.#handle;
    this.#handle = undefined;
    if (handle) await handle.close().catch((err: unknown) => this.#fail(err));
    if (this.#firstError !== undefined) {
      throw new AssayError("output_unwritable", `cannot write sdk event log \`${this.path}\``, {
        cause: this.#firstError,
      });
    }
  }

  #event(type: SdkEventType, toolCallId: string | null, tool: string | null): void {
    if (this.#closed) throw new AssayError("usage", `sdk event \`${type}\` after the log was closed`);
    // The runner refuses a tool event without both: fail where the agent made the mistake.
    if (toolCallId !== null && toolCallId.trim() === "")
      throw contractError(`sdk event \`${type}\` has an empty tool_call_id`);
    if (tool !== null && tool.trim() === "") throw contractError(`sdk event \`${type}\` has an empty tool`);
    const line: SdkEventLine = {
      schema: RUNNER_SCHEMA.sdkEvent,
      run_id: this.runId,
      seq: this.#seq++,
      event_type: type,
      source: this.opts.source,
      sdk_name: orNull(this.opts.sdkName),
      sdk_version: orNull(this.opts.sdkVersion),
      tool_call_id: toolCallId,
      tool,
    };
    if (!this.enabled) return;
    const text = `${JSON.stringify(line)}\n`;
    this.#chain = this.#chain.then(async () => {
      // After a failed write nothing more is written: a gap in `seq` would make the whole log invalid.
      if (this.#firstError !== undefined || !this.#handle) return;
      await this.#handle.appendFile(text, "utf8").catch((err: unknown) => this.#fail(err));
    });
  }

  #fail(err: unknown): void {
    if (this.#firstError === undefined) this.#firstError = err ?? new Error("unknown error");
  }
}
