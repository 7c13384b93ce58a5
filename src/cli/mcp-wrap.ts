import { type Command, Option } from "commander";
import { type DecisionSink, FileDecisionLog } from "../gate/decision-log.js";
import { loadPins, PinSet, pinsSaver } from "../gate/pins.js";
import { DEFAULT_BUSY_POLL_US, DEFAULT_MAX_FRAME_BYTES, runStdioGate } from "../gate/stdio-gate.js";
import { AssayError } from "../lib/errors.js";
import { readJsonInput } from "./io.js";
import { compilePacks } from "./policy-check.js";

export interface GateCliOptions {
  policy: string[];
  decisionLog?: string;
  dryRun?: boolean;
  denyMode: "result" | "error";
  label?: string;
  filterTools: boolean;
  pins?: string;
  context?: string;
  sessionId?: string;
  logArguments?: boolean;
}

/** The options `mcp wrap` and `mcp proxy` share. */
export function addGateOptions(cmd: Command): Command {
  return cmd
    .requiredOption("-p, --policy <pack...>", "policy pack files (repeatable)")
    .option("--decision-log <file>", "append one CloudEvent per decision to this NDJSON file")
    .option("--dry-run", "decide and log `would_deny`, but forward every call")
    .addOption(
      new Option("--deny-mode <mode>", "how a denied call is answered")
        .choices(["result", "error"])
        .default("result"),
    )
    .option("--label <name>", "name of this gate in decision records (CloudEvents `source`)")
    .option("--no-filter-tools", "keep tools the policy denies outright in tools/list results")
    .option(
      "--pins <file>",
      "tool pins file: every tool listed is pinned into it on first sight, then compared",
    )
    .option("--context <file>", 'JSON object every decision reads as `context` (e.g. {"env": "prod"})')
    .option("--session-id <id>", "session id for decision records (default: a random UUID)")
    .option("--log-arguments", "write each call's arguments into its record (default: only their sha256)");
}

/** Compile packs and open the log, pins and context a gate needs, from CLI options. */
export async function gateSetup(opts: GateCliOptions, defaultLabel: string) {
  const policy = await compilePacks(opts.policy);
  let context: Record<string, unknown> = {};
  if (opts.context !== undefined) {
    const c = await readJsonInput(opts.context, "context");
    if (c === null || typeof c !== "object" || Array.isArray(c)) {
      throw new AssayError("input_invalid", "context must be a JSON object", { where: opts.context });
    }
    context = c as Record<string, unknown>;
  }
  const pinsPath = opts.pins;
  const existing = pinsPath === undefined ? undefined : await loadPins(pinsPath);
  const pins = new PinSet(existing);
  let sink: DecisionSink | undefined;
  if (opts.decisionLog !== undefined) {
    try {
      sink = await FileDecisionLog.open(opts.decisionLog);
    } catch (err) {
      if (err instanceof AssayError) throw err;
      throw new AssayError(
        "input_unreadable",
        `cannot open decision log: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
        { where: opts.decisionLog },
      );
    }
  }
  return {
    policy,
    context,
    pins,
    sink,
    label: opts.label ?? defaultLabel,
    denyMode: opts.denyMode,
    dryRun: opts.dryRun === true,
    filterTools: opts.filterTools,
    logArguments: opts.logArguments === true,
    ...(opts.sessionId === undefined ? {} : { sessionId: opts.sessionId }),
    // Every tool the session sees is saved (merged into the file as it is then), on every page
    // and listing, so a tool first listed late is compared next time too.
    ...(pinsPath !== undefined ? { onPinsAdded: pinsSaver(pinsPath) } : {}),
  };
}

export function registerMcpWrap(mcp: Command, run: (fn: () => Promise<number>) => Promise<void>): void {
  addGateOptions(
    mcp
      .command("wrap")
      .description("run an MCP server behind the policy gate, on stdio (use as an MCP server `command`)")
      .argument("<server...>", "the server command and its arguments, after `--`"),
  )
    .option("--max-frame-bytes <n>", "refuse client frames larger than this", String(DEFAULT_MAX_FRAME_BYTES))
    .option(
      "--busy-poll <us>",
      "after each message, keep reading both pipes without blocking for this long (µs; 0 = off)",
      String(DEFAULT_BUSY_POLL_US),
    )
    .addHelpText(
      "after",
      [
        "",
        "Example:",
        "  assay mcp wrap --policy packs/mcp-baseline.yaml --decision-log decisions.ndjson -- \\",
        "    npx -y @modelcontextprotocol/server-filesystem /workspace",
        "",
        "Exit codes: the server's own exit code when it exits; 0 when the client disconnects;",
        "2 for invalid packs, unreadable files or a server that cannot be started.",
      ].join("\n"),
    )
    .action((server: string[], opts: GateCliOptions & { maxFrameBytes: string; busyPoll: string }) =>
      run(async () => {
        const maxFrameBytes = integerOption("--max-frame-bytes", opts.maxFrameBytes, 1024);
        const busyPollUs = Number(opts.busyPoll);
        if (!/^\d+$/.test(opts.busyPoll) || busyPollUs > MAX_BUSY_POLL_US) {
          throw new AssayError(
            "usage",
            `--busy-poll must be a whole number of µs from 0 to ${MAX_BUSY_POLL_US}, got \`${opts.busyPoll}\``,
          );
        }
        const [command, ...args] = server;
        const setup = await gateSetup(opts, command ? basename(command) : "mcp");
        return runStdioGate({ ...setup, command: command as string, args, maxFrameBytes, busyPollUs });
      }),
    );
}

/** A flag's value as an integer of at least `min`; a usage error naming the flag otherwise. */
export function integerOption(flag: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    const what = min === 1 ? "a positive integer" : `an integer of at least ${min}`;
    throw new AssayError("usage", `${flag} must be ${what}, got \`${raw}\``);
  }
  return n;
}

/** Spinning longer than this after every message would be a CPU burner, not a latency trim. */
const MAX_BUSY_POLL_US = 10_000;

function basename(p: string): string {
  return p.split(/[\\/]/).pop() || p;
}
