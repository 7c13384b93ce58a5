import { readFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { AssayError } from "../lib/errors.js";

/** One server of an MCP config, in the shape Claude Desktop, Claude Code and Cursor use. */
export interface McpServerEntry {
  command: string;
  args: string[];
  env: Record<string, string>;
  cwd?: string;
}

/** The servers of `--mcp-config`, in file order, with `${...}` substituted. */
export interface McpServers {
  readonly names: readonly string[];
  readonly servers: Readonly<Record<string, McpServerEntry>>;
}

/**
 * Read `--mcp-config`: `{"mcpServers": {name: {command, args?, env?, cwd?}}}`. In `command`,
 * `args` and `cwd`, `${ASSAY_RUNNER_WORK_DIR}` is the capture's work directory and
 * `${MCP_CONFIG_DIR}` the config file's own directory; a relative `cwd` is resolved against the
 * config file's directory.
 */
export async function readMcpServers(file: string, workDir: string): Promise<McpServers> {
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(file, "utf8"));
  } catch (err) {
    const why =
      err instanceof SyntaxError ? err.message : ((err as NodeJS.ErrnoException).code ?? String(err));
    throw new AssayError("input_unreadable", `cannot read the MCP config: ${why}`, { where: file });
  }
  const servers = (doc as { mcpServers?: unknown } | null)?.mcpServers;
  if (servers === null || typeof servers !== "object" || Array.isArray(servers))
    throw new AssayError("input_invalid", "the MCP config must be an object with an `mcpServers` object", {
      where: file,
    });
  const vars: Record<string, string> = {
    ASSAY_RUNNER_WORK_DIR: workDir,
    MCP_CONFIG_DIR: dirname(resolve(file)),
  };
  const sub = (s: string) => s.replace(/\$\{([A-Z_]+)\}/g, (whole, name: string) => vars[name] ?? whole);
  const out: Record<string, McpServerEntry> = {};
  const names = Object.keys(servers);
  if (names.length === 0)
    throw new AssayError("input_invalid", "the MCP config lists no servers", { where: file });
  for (const name of names) {
    const e = (servers as Record<string, unknown>)[name] as Record<string, unknown> | null;
    const at = `${file}: /mcpServers/${name.replace(/~/g, "~0").replace(/\//g, "~1")}`;
    const bad = (what: string) => new AssayError("input_invalid", `${what}`, { where: at });
    if (e === null || typeof e !== "object" || Array.isArray(e)) throw bad("a server must be an object");
    if (typeof e.command !== "string" || e.command === "") throw bad("`command` must be a non-empty string");
    if (e.url !== undefined)
      throw bad("only stdio servers (`command`) can be run behind the gate, not `url`");
    const args = e.args ?? [];
    if (!Array.isArray(args) || !args.every((a) => typeof a === "string"))
      throw bad("`args` must be strings");
    const env = e.env ?? {};
    if (
      typeof env !== "object" ||
      env === null ||
      Array.isArray(env) ||
      !Object.values(env).every((v) => typeof v === "string")
    )
      throw bad("`env` must map names to strings");
    if (e.cwd !== undefined && typeof e.cwd !== "string") throw bad("`cwd` must be a string");
    out[name] = {
      command: sub(e.command),
      args: (args as string[]).map(sub),
      env: { ...(env as Record<string, string>) },
      ...(e.cwd === undefined ? {} : { cwd: resolve(dirname(file), sub(e.cwd as string)) }),
    };
  }
  return { names, servers: out };
}

/** How every server's gate is started. */
export interface GateLaunch {
  /** How to run `assay` (argv before `mcp wrap`). */
  assay: readonly string[];
  packPaths: readonly string[];
  /** The run id: each gate's `--session-id`. */
  runId: string;
  /** Where the decision log of the server at this index goes. */
  decisionLog: (index: number) => string;
  /** The agent's work directory, the default `cwd` of a server. */
  workDir: string;
}

/**
 * The MCP config handed to the agent: each server behind its own `assay mcp wrap`, which logs
 * every decision under the run's id, labelled with the server's name, with the pack cache off.
 */
export function gatedMcpConfig(
  servers: McpServers,
  launch: GateLaunch,
): { mcpServers: Record<string, McpServerEntry> } {
  const [command, ...assayArgs] = launch.assay;
  const mcpServers: Record<string, McpServerEntry> = {};
  servers.names.forEach((name, i) => {
    const s = servers.servers[name] as McpServerEntry;
    mcpServers[name] = {
      command: command as string,
      args: [
        ...assayArgs,
        "mcp",
        "wrap",
        ...launch.packPaths.flatMap((p) => ["--policy", p]),
        "--decision-log",
        launch.decisionLog(i),
        "--label",
        name,
        "--session-id",
        launch.runId,
        "--",
        s.command,
        ...s.args,
      ],
      // No pack cache: a gate that compiled the packs would write a cache entry (under a temporary
      // name of its own) on the first run and read it on the next, so the runs' surfaces and
      // capability diffs would show the gate's bookkeeping as the agent's. Its server inherits this.
      env: { ...s.env, ASSAY_NO_CACHE: "1" },
      cwd: s.cwd ?? launch.workDir,
    };
  });
  return { mcpServers };
}

/** The decision log file of the server at `index`, under the capture's scratch directory. */
export function decisionLogPath(scratch: string, index: number): string {
  return join(scratch, `policy-${index}.ndjson`);
}
