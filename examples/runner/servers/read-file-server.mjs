#!/usr/bin/env node
// The MCP server of the runner fixtures (examples/runner/): one tool, `read_file` {path}, which
// returns the file's text. Built on the official SDK (McpServer over stdio) and nothing else, so
// the only file it opens beyond the SDK's own modules is the one a call names: that path is
// what the capture's kernel layer binds to the call.
import { readFile } from "node:fs/promises";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { z } from "zod";

const server = new McpServer({ name: "assay-runner-read-file", version: "1.0.0" });

server.registerTool(
  "read_file",
  {
    description: "Read a text file and return its contents",
    inputSchema: { path: z.string().describe("absolute path of the file to read") },
  },
  async ({ path }) => {
    try {
      return { content: [{ type: "text", text: await readFile(path, "utf8") }] };
    } catch (err) {
      // A tool error, not a protocol error: the agent sees why, and the run is still one call.
      return {
        content: [{ type: "text", text: `cannot read \`${path}\`: ${err.code ?? err}` }],
        isError: true,
      };
    }
  },
);

await server.connect(new StdioServerTransport());
