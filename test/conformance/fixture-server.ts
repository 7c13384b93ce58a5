import { pathToFileURL } from "node:url";
import { Server } from "@modelcontextprotocol/sdk/server/index.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import {
  CallToolRequestSchema,
  CompleteRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { callTool, PNG, TOOLS } from "./fixture-tools.js";
import { startHttpHost } from "./http-host.js";

/**
 * The server the official conformance suite (@modelcontextprotocol/conformance 0.1.16) expects:
 * every tool (fixture-tools.ts), resource and prompt its server scenarios call, with the names
 * and results their sources ask for. Built on the SDK's low-level `Server` so every schema goes out exactly as
 * written (the JSON Schema 2020-12 scenario checks `$schema`, `$defs` and `additionalProperties`).
 *
 *   tsx test/conformance/fixture-server.ts --stdio   one session on stdin/stdout
 *   tsx test/conformance/fixture-server.ts --http    Streamable HTTP on 127.0.0.1 (a free port),
 *                                                    printing `listening <url>` on stdout
 */

const RESOURCES = [
  {
    uri: "test://static-text",
    name: "static-text",
    description: "A static text resource",
    mimeType: "text/plain",
  },
  {
    uri: "test://static-binary",
    name: "static-binary",
    description: "A static PNG image",
    mimeType: "image/png",
  },
  {
    uri: "test://watched-resource",
    name: "watched-resource",
    description: "A resource clients may subscribe to",
    mimeType: "text/plain",
  },
];

function readResource(uri: string) {
  if (uri === "test://static-text") {
    return [{ uri, mimeType: "text/plain", text: "This is the content of the static text resource." }];
  }
  if (uri === "test://static-binary") return [{ uri, mimeType: "image/png", blob: PNG }];
  if (uri === "test://watched-resource")
    return [{ uri, mimeType: "text/plain", text: "Watched resource content." }];
  const m = /^test:\/\/template\/([^/]+)\/data$/.exec(uri);
  if (m?.[1] !== undefined) {
    const id = decodeURIComponent(m[1]);
    return [
      {
        uri,
        mimeType: "application/json",
        text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
      },
    ];
  }
  throw new McpError(-32002, `Resource not found: ${uri}`);
}

const PROMPTS = [
  { name: "test_simple_prompt", description: "A prompt without arguments" },
  {
    name: "test_prompt_with_arguments",
    description: "A prompt with two required arguments",
    arguments: [
      { name: "arg1", description: "First test argument", required: true },
      { name: "arg2", description: "Second test argument", required: true },
    ],
  },
  {
    name: "test_prompt_with_embedded_resource",
    description: "A prompt that embeds a resource",
    arguments: [{ name: "resourceUri", description: "URI of the resource to embed", required: true }],
  },
  { name: "test_prompt_with_image", description: "A prompt with image content" },
];

function getPrompt(name: string, args: Record<string, string>) {
  switch (name) {
    case "test_simple_prompt":
      return {
        messages: [{ role: "user", content: { type: "text", text: "This is a simple prompt for testing." } }],
      };
    case "test_prompt_with_arguments":
      return {
        messages: [
          {
            role: "user",
            content: {
              type: "text",
              text: `Prompt with arguments: arg1='${args.arg1}', arg2='${args.arg2}'`,
            },
          },
        ],
      };
    case "test_prompt_with_embedded_resource":
      return {
        messages: [
          {
            role: "user",
            content: {
              type: "resource",
              resource: {
                uri: args.resourceUri ?? "test://example-resource",
                mimeType: "text/plain",
                text: "Embedded resource content for testing.",
              },
            },
          },
          { role: "user", content: { type: "text", text: "Please process the embedded resource above." } },
        ],
      };
    case "test_prompt_with_image":
      return {
        messages: [
          { role: "user", content: { type: "image", data: PNG, mimeType: "image/png" } },
          { role: "user", content: { type: "text", text: "Please analyze the image above." } },
        ],
      };
    default:
      throw new McpError(-32602, `Unknown prompt: ${name}`);
  }
}

/** One server per session: an SDK `Server` connects to exactly one transport. */
export function createFixtureServer(): Server {
  const server = new Server(
    { name: "assay-conformance-fixture", version: "1.0.0" },
    {
      capabilities: {
        tools: {},
        resources: { subscribe: true },
        prompts: {},
        logging: {},
        completions: {},
      },
    },
  );
  const subscriptions = new Set<string>();
  server.setRequestHandler(ListToolsRequestSchema, async () => ({ tools: TOOLS }));
  server.setRequestHandler(CallToolRequestSchema, (req, extra) =>
    callTool(req.params.name, req.params.arguments ?? {}, extra),
  );
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: RESOURCES }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({
    resourceTemplates: [
      {
        uriTemplate: "test://template/{id}/data",
        name: "template-data",
        description: "Data for an id",
        mimeType: "application/json",
      },
    ],
  }));
  server.setRequestHandler(ReadResourceRequestSchema, async (req) => ({
    contents: readResource(req.params.uri),
  }));
  server.setRequestHandler(SubscribeRequestSchema, async (req) => {
    subscriptions.add(req.params.uri);
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
    subscriptions.delete(req.params.uri);
    return {};
  });
  server.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts: PROMPTS }));
  server.setRequestHandler(GetPromptRequestSchema, async (req) =>
    getPrompt(req.params.name, req.params.arguments ?? {}),
  );
  server.setRequestHandler(CompleteRequestSchema, async (req) => {
    const prefix = req.params.argument.value;
    const values = ["paris", "park", "party", "test", "testing"].filter((v) => v.startsWith(prefix));
    return { completion: { values, total: values.length, hasMore: false } };
  });
  return server;
}

async function main(argv: string[]): Promise<void> {
  if (argv.includes("--stdio")) {
    await createFixtureServer().connect(new StdioServerTransport());
    return;
  }
  if (argv.includes("--http")) {
    const host = await startHttpHost({
      openSession: async (transport) => {
        const server = createFixtureServer();
        await server.connect(transport);
        return () => server.close();
      },
    });
    process.stdout.write(`listening ${host.url}\n`);
    const stop = () => void host.close().then(() => process.exit(0));
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
    return;
  }
  process.stderr.write("usage: fixture-server.ts --stdio | --http\n");
  process.exit(2);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) await main(process.argv.slice(2));
