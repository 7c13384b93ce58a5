import type { CommandDriverSpec } from "../target/types.js";

/** One server of `mcp.json`: what an MCP client's stdio transport takes, plus `cwd`. */
export interface McpServerEntry {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd: string;
}

/** What every gate of one trial is started with. */
export interface TrialGates {
  /** How to run `assay` (argv before `mcp wrap`). */
  assay: readonly string[];
  packPaths: readonly string[];
  /** A server's decision log. */
  log: (server: string) => string;
  /** The trial id, each gate's `--session-id`. */
  sessionId: string;
  /** The scenario's context file. */
  context: string;
  /** The trial's scratch directory: each server's `cwd`. */
  work: string;
  /** What `${NAME}` in a server's command stands for. */
  vars: Readonly<Record<string, string>>;
}

/**
 * The trial's MCP config, in the shape Claude Desktop, Claude Code and Cursor use: each server of
 * the bundle behind its own `assay mcp wrap`, which logs every decision to the server's log under
 * the trial's session, labelled with the server's name.
 */
export function gatedMcpConfig(
  servers: CommandDriverSpec["mcp_servers"],
  gates: TrialGates,
): { mcpServers: Record<string, McpServerEntry> } {
  const [command, ...assayArgs] = gates.assay;
  const entry = (name: string, server: CommandDriverSpec["mcp_servers"][string]): McpServerEntry => ({
    command: command as string,
    args: [
      ...assayArgs,
      "mcp",
      "wrap",
      ...gates.packPaths.flatMap((p) => ["--policy", p]),
      "--decision-log",
      gates.log(name),
      "--log-arguments",
      "--label",
      name,
      "--session-id",
      gates.sessionId,
      "--context",
      gates.context,
      "--",
      ...server.command.map((a) => substitute(a, gates.vars)),
    ],
    env: { ...server.env },
    cwd: gates.work,
  });
  return {
    mcpServers: Object.fromEntries(
      Object.entries(servers).map(([name, server]) => [name, entry(name, server)]),
    ),
  };
}

/** `${NAME}` → its value, for the names in `vars` only; anything else is left as written. */
export function substitute(arg: string, vars: Readonly<Record<string, string>>): string {
  return arg.replace(/\$\{([A-Z_]+)\}/g, (whole, name: string) => vars[name] ?? whole);
}
