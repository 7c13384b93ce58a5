import { type Command, Option } from "commander";
import { DEFAULT_MAX_FRAME_BYTES } from "../gate/gate-defaults.js";

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
  adaptive?: boolean;
}

export interface WrapCliOptions extends GateCliOptions {
  maxFrameBytes: string;
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
    .option("--log-arguments", "write each call's arguments into its record (default: only their sha256)")
    .option("--adaptive", "decide with a plan built once for --context (docs/adapt.md): the same decisions");
}

export function registerMcpWrap(mcp: Command, run: (fn: () => Promise<number>) => Promise<void>): void {
  addGateOptions(
    mcp
      .command("wrap")
      .description("run an MCP server behind the policy gate, on stdio (use as an MCP server `command`)")
      .argument("<server...>", "the server command and its arguments, after `--`"),
  )
    .option("--max-frame-bytes <n>", "refuse client frames larger than this", String(DEFAULT_MAX_FRAME_BYTES))
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
    .action((server: string[], opts: WrapCliOptions) =>
      run(async () => (await import("./actions/mcp-wrap.js")).mcpWrap(server, opts)),
    );
}
