import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol.js";
import {
  type CallToolResult,
  CreateMessageResultSchema,
  ElicitResultSchema,
  McpError,
  type ServerNotification,
  type ServerRequest,
  type Tool,
} from "@modelcontextprotocol/sdk/types.js";

/**
 * The fixture server's tools: each one a scenario of @modelcontextprotocol/conformance 0.1.16
 * calls (or, for `json_schema_2020_12_tool`, looks up), answering as that scenario's source asks.
 */
type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** A 1×1 red PNG. */
export const PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

/** 10 ms of 8 kHz 8-bit mono silence as a WAV file. */
function wav(): string {
  const samples = Buffer.alloc(80, 0x80);
  const h = Buffer.alloc(44);
  h.write("RIFF", 0);
  h.writeUInt32LE(36 + samples.length, 4);
  h.write("WAVEfmt ", 8);
  h.writeUInt32LE(16, 16);
  h.writeUInt16LE(1, 20);
  h.writeUInt16LE(1, 22);
  h.writeUInt32LE(8000, 24);
  h.writeUInt32LE(8000, 28);
  h.writeUInt16LE(1, 32);
  h.writeUInt16LE(8, 34);
  h.write("data", 36);
  h.writeUInt32LE(samples.length, 40);
  return Buffer.concat([h, samples]).toString("base64");
}

const NO_ARGS = { type: "object" as const, properties: {} };

export const TOOLS: Tool[] = [
  { name: "test_simple_text", description: "Returns simple text content", inputSchema: NO_ARGS },
  { name: "test_image_content", description: "Returns image content", inputSchema: NO_ARGS },
  { name: "test_audio_content", description: "Returns audio content", inputSchema: NO_ARGS },
  { name: "test_embedded_resource", description: "Returns an embedded resource", inputSchema: NO_ARGS },
  {
    name: "test_multiple_content_types",
    description: "Returns text, image and resource content",
    inputSchema: NO_ARGS,
  },
  { name: "test_tool_with_logging", description: "Sends log messages while it runs", inputSchema: NO_ARGS },
  { name: "test_error_handling", description: "Always returns an error result", inputSchema: NO_ARGS },
  { name: "test_tool_with_progress", description: "Reports progress while it runs", inputSchema: NO_ARGS },
  {
    name: "test_sampling",
    description: "Asks the client's LLM (sampling/createMessage)",
    inputSchema: {
      type: "object",
      properties: { prompt: { type: "string", description: "The prompt to send to the LLM" } },
      required: ["prompt"],
    },
  },
  {
    name: "test_elicitation",
    description: "Asks the user for input (elicitation/create)",
    inputSchema: {
      type: "object",
      properties: { message: { type: "string", description: "The message to show the user" } },
      required: ["message"],
    },
  },
  {
    name: "test_elicitation_sep1034_defaults",
    description: "Elicitation with a default for every primitive type (SEP-1034)",
    inputSchema: NO_ARGS,
  },
  {
    name: "test_elicitation_sep1330_enums",
    description: "Elicitation with every enum schema variant (SEP-1330)",
    inputSchema: NO_ARGS,
  },
  {
    name: "json_schema_2020_12_tool",
    description: "Tool with JSON Schema 2020-12 features",
    inputSchema: {
      $schema: "https://json-schema.org/draft/2020-12/schema",
      type: "object",
      $defs: {
        address: { type: "object", properties: { street: { type: "string" }, city: { type: "string" } } },
      },
      properties: { name: { type: "string" }, address: { $ref: "#/$defs/address" } },
      additionalProperties: false,
    },
  },
  {
    name: "test_reconnection",
    description: "Closes its SSE stream before answering, so the client resumes with Last-Event-ID",
    inputSchema: NO_ARGS,
  },
];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const text = (t: string): CallToolResult => ({ content: [{ type: "text", text: t }] });

async function elicit(extra: Extra, message: string, requestedSchema: Record<string, unknown>) {
  const r = await extra.sendRequest(
    { method: "elicitation/create", params: { message, requestedSchema } } as ServerRequest,
    ElicitResultSchema,
  );
  return text(`Elicitation completed: action=${r.action}, content=${JSON.stringify(r.content ?? {})}`);
}

export async function callTool(
  name: string,
  args: Record<string, unknown>,
  extra: Extra,
): Promise<CallToolResult> {
  switch (name) {
    case "test_simple_text":
      return text("This is a simple text response for testing.");
    case "test_image_content":
      return { content: [{ type: "image", data: PNG, mimeType: "image/png" }] };
    case "test_audio_content":
      return { content: [{ type: "audio", data: wav(), mimeType: "audio/wav" }] };
    case "test_embedded_resource":
      return {
        content: [
          {
            type: "resource",
            resource: {
              uri: "test://embedded-resource",
              mimeType: "text/plain",
              text: "This is an embedded resource content.",
            },
          },
        ],
      };
    case "test_multiple_content_types":
      return {
        content: [
          { type: "text", text: "Multiple content types test:" },
          { type: "image", data: PNG, mimeType: "image/png" },
          {
            type: "resource",
            resource: {
              uri: "test://mixed-content-resource",
              mimeType: "application/json",
              text: JSON.stringify({ test: "data", value: 123 }),
            },
          },
        ],
      };
    case "test_tool_with_logging": {
      const steps = ["Tool execution started", "Tool processing data", "Tool execution completed"];
      for (const [i, data] of steps.entries()) {
        if (i > 0) await sleep(50);
        await extra.sendNotification({
          method: "notifications/message",
          params: { level: "info", logger: "conformance-fixture", data },
        });
      }
      return text("Tool with logging executed successfully");
    }
    case "test_error_handling":
      return {
        isError: true,
        content: [{ type: "text", text: "This tool intentionally returns an error for testing" }],
      };
    case "test_tool_with_progress": {
      const token = extra._meta?.progressToken;
      for (const [i, progress] of [0, 50, 100].entries()) {
        if (i > 0) await sleep(50);
        if (token !== undefined) {
          await extra.sendNotification({
            method: "notifications/progress",
            params: { progressToken: token, progress, total: 100, message: `step ${i + 1} of 3` },
          });
        }
      }
      return text(String(token ?? "no progress token"));
    }
    case "test_sampling": {
      const prompt = typeof args.prompt === "string" ? args.prompt : "";
      const r = await extra.sendRequest(
        {
          method: "sampling/createMessage",
          params: { messages: [{ role: "user", content: { type: "text", text: prompt } }], maxTokens: 100 },
        } as ServerRequest,
        CreateMessageResultSchema,
      );
      const answer = r.content.type === "text" ? r.content.text : JSON.stringify(r.content);
      return text(`LLM response: ${answer}`);
    }
    case "test_elicitation":
      return elicit(extra, typeof args.message === "string" ? args.message : "", {
        type: "object",
        properties: {
          username: { type: "string", description: "User's response" },
          email: { type: "string", description: "User's email address" },
        },
        required: ["username", "email"],
      });
    case "test_elicitation_sep1034_defaults":
      return elicit(extra, "Please review and update the form fields with defaults", {
        type: "object",
        properties: {
          name: { type: "string", description: "User name", default: "John Doe" },
          age: { type: "integer", description: "User age", default: 30 },
          score: { type: "number", description: "User score", default: 95.5 },
          status: {
            type: "string",
            description: "User status",
            enum: ["active", "inactive", "pending"],
            default: "active",
          },
          verified: { type: "boolean", description: "Verification status", default: true },
        },
      });
    case "test_elicitation_sep1330_enums":
      return elicit(extra, "Please select options from the enum fields", {
        type: "object",
        properties: {
          untitledSingle: { type: "string", enum: ["option1", "option2", "option3"] },
          titledSingle: {
            type: "string",
            oneOf: [
              { const: "value1", title: "First Option" },
              { const: "value2", title: "Second Option" },
              { const: "value3", title: "Third Option" },
            ],
          },
          legacyEnum: {
            type: "string",
            enum: ["opt1", "opt2", "opt3"],
            enumNames: ["Option One", "Option Two", "Option Three"],
          },
          untitledMulti: {
            type: "array",
            items: { type: "string", enum: ["option1", "option2", "option3"] },
          },
          titledMulti: {
            type: "array",
            items: {
              anyOf: [
                { const: "value1", title: "First Choice" },
                { const: "value2", title: "Second Choice" },
                { const: "value3", title: "Third Choice" },
              ],
            },
          },
        },
      });
    case "json_schema_2020_12_tool":
      return text(`received ${JSON.stringify(args)}`);
    case "test_reconnection":
      // Over HTTP with an event store the SDK lets a handler close its stream; the client then
      // resumes with Last-Event-ID and gets this answer replayed. Over stdio there is no stream.
      extra.closeSSEStream?.();
      await sleep(100);
      return text("Reconnection test completed successfully");
    default:
      throw new McpError(-32602, `Unknown tool: ${name}`);
  }
}
