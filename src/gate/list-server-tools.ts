import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import type { ListedTool } from "./pins.js";

/** Start an MCP server over stdio, read every page of its `tools/list`, and stop it. */
export async function listServerTools(command: string, args: readonly string[]): Promise<ListedTool[]> {
  const client = new Client({ name: "assay-pins", version: "1" });
  const transport = new StdioClientTransport({ command, args: [...args], stderr: "inherit" });
  await client.connect(transport);
  try {
    const tools: ListedTool[] = [];
    let cursor: string | undefined;
    // Bounded: a server that pages forever is not waited for.
    for (let page = 0; page < 1000; page++) {
      const res = await client.listTools(cursor === undefined ? {} : { cursor });
      tools.push(...(res.tools as ListedTool[]));
      cursor = res.nextCursor;
      if (!cursor) return tools;
    }
    throw new Error("tools/list returned more than 1000 pages");
  } finally {
    await client.close();
  }
}
