import type { Command } from "commander";

export function registerMcpPins(mcp: Command, run: (fn: () => Promise<number>) => Promise<void>): void {
  const pins = mcp.command("pins").description("tool pins against rug pulls").exitOverride();
  pins
    .command("update")
    .description("re-approve tools: read the server's tools/list and write their pins")
    .requiredOption("--pins <file>", "the pins file to write (created when missing)")
    .option("--tool <name...>", "re-approve only these tools (default: every tool the server lists)")
    .argument("<server...>", "the server command and its arguments, after `--`")
    .addHelpText(
      "after",
      "\nExample:\n  assay mcp pins update --pins pins.json -- npx -y @modelcontextprotocol/server-everything\n\nExit codes: 0 written; 2 unreadable pins file or a server that cannot be listed.",
    )
    .exitOverride()
    .action((server: string[], opts: { pins: string; tool?: string[] }) =>
      run(async () => (await import("./actions/mcp-pins.js")).pinsUpdate(server, opts)),
    );
}
