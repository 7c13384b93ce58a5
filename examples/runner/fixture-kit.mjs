// What both runner fixtures share: the work dir, the gated MCP server the runner configured,
// the installed version of an SDK, and Assay's SDK event helper. Plain JavaScript on purpose:
// a TypeScript loader (tsx) writes caches under /tmp, and those opens would make the kernel
// layer differ from one run to the next.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";

/** The tool call id both fixtures send, so their policy layers bind the same id as S5's. */
export const TOOL_CALL_ID = "tc_runner_policy_001";

/** The work dir the runner made (ASSAY_RUNNER_WORK_DIR), else the current directory. */
export function workDir() {
  return process.env.ASSAY_RUNNER_WORK_DIR || process.cwd();
}

/**
 * Assay's SDK event helper, from the built library (`npm run build`). Its own module rather than
 * dist/index.js: the whole library would add a hundred of Assay's own files to the files the
 * agent opens, which the capture lists as the agent's filesystem surface.
 */
export async function openSdkEventLog(opts) {
  const url = new URL("../../dist/runner/sdk-events.js", import.meta.url);
  let mod;
  try {
    mod = await import(url.href);
  } catch (err) {
    throw new Error(`cannot load \`${fileURLToPath(url)}\` (run \`npm run build\` first): ${err.message}`);
  }
  return mod.openSdkEventLog(opts);
}

/** The version of the installed package `name`, from its own package.json. */
export async function installedVersion(name) {
  // The package's entry point, cut back to its folder: exports maps may hide package.json.
  const entry = fileURLToPath(import.meta.resolve(name));
  const marker = `/node_modules/${name}/`;
  const at = entry.lastIndexOf(marker);
  if (at < 0) throw new Error(`\`${name}\` does not resolve into node_modules (${entry})`);
  const pkg = JSON.parse(await readFile(join(entry.slice(0, at + marker.length), "package.json"), "utf8"));
  return pkg.version;
}

/**
 * The one server of the MCP config the runner wrote (ASSAY_MCP_CONFIG, Claude Desktop shape),
 * started as configured (behind `assay mcp wrap`), connected with the official MCP client.
 */
export async function connectGatedServer(clientName) {
  const configPath = process.env.ASSAY_MCP_CONFIG;
  if (!configPath) throw new Error("ASSAY_MCP_CONFIG is not set (run me through `assay runner capture`)");
  const servers = Object.entries(JSON.parse(await readFile(configPath, "utf8")).mcpServers ?? {});
  if (servers.length !== 1)
    throw new Error(`\`${configPath}\` must list exactly one server, not ${servers.length}`);
  const [, server] = servers[0];
  const transport = new StdioClientTransport({
    command: server.command,
    args: server.args ?? [],
    ...(server.env ? { env: server.env } : {}),
    ...(server.cwd ? { cwd: server.cwd } : {}),
  });
  const client = new Client({ name: clientName, version: "1.0.0" });
  await client.connect(transport);
  return client;
}

/** The text of a tools/call result; throws when the call failed (a policy deny included). */
export function resultText(result) {
  const text = (result.content ?? [])
    .filter((c) => c.type === "text")
    .map((c) => c.text)
    .join("");
  if (result.isError) throw new Error(`read_file failed: ${text}`);
  return text;
}
