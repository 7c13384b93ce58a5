import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { ErrorCode, McpError } from "@modelcontextprotocol/sdk/types.js";
import { AssayError } from "../lib/errors.js";
import type { ListedTool } from "./pins.js";

/** Pages of `tools/list` read before giving up on a server that pages forever. */
const MAX_PAGES = 1000;
/** How long the server gets to answer each request (the SDK's own default, said in the error). */
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * Start an MCP server over stdio, read every page of its `tools/list`, and stop it. A server that
 * cannot be started, leaves, answers with an error or never stops paging is an `input_unreadable`
 * AssayError naming the command (exit 2), not an internal error.
 */
export async function listServerTools(command: string, args: readonly string[]): Promise<ListedTool[]> {
  const client = new Client({ name: "assay-pins", version: "1" });
  const transport = new StdioClientTransport({ command, args: [...args], stderr: "inherit" });
  // A server that leaves between requests can leave the client with nothing pending (the SDK's
  // `initialized` notification waits on a pipe nobody reads) and the process would end without a
  // word: every step races the connection's close.
  const closed = new Promise<never>((_, reject) => {
    client.onclose = () => reject(new McpError(ErrorCode.ConnectionClosed, "Connection closed"));
  });
  closed.catch(() => {});
  try {
    await Promise.race([client.connect(transport, { timeout: REQUEST_TIMEOUT_MS }), closed]);
    const tools: ListedTool[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < MAX_PAGES; page++) {
      const params = cursor === undefined ? {} : { cursor };
      const res = await Promise.race([client.listTools(params, { timeout: REQUEST_TIMEOUT_MS }), closed]);
      tools.push(...(res.tools as ListedTool[]));
      cursor = res.nextCursor;
      if (!cursor) return tools;
    }
    throw new AssayError("input_unreadable", `\`${command}\` listed more than ${MAX_PAGES} pages of tools`);
  } catch (err) {
    throw serverProblem(command, err);
  } finally {
    // The answer (or the error above) is what counts; a failure to stop the server adds nothing.
    await client.close().catch(() => {});
  }
}

/** What went wrong with the server, in one line a user can act on. */
function serverProblem(command: string, err: unknown): AssayError {
  if (err instanceof AssayError) return err;
  const name = `\`${command}\``;
  const errno = err as NodeJS.ErrnoException;
  let message: string;
  if (typeof errno.syscall === "string" && errno.syscall.startsWith("spawn"))
    message = `cannot start ${name}: ${errno.code ?? errno.message}`;
  else if (err instanceof McpError && err.code === ErrorCode.ConnectionClosed)
    message = `${name} closed the connection before listing its tools (did it exit?)`;
  else if (err instanceof McpError && err.code === ErrorCode.RequestTimeout)
    message = `${name} did not answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  else if (isSchemaError(err)) {
    // The SDK checks each answer against its schema; zod's own message is pretty-printed JSON.
    const issue = err.issues[0];
    const where = issue?.path.length ? ` at /${issue.path.map(String).join("/")}` : "";
    message = `${name} sent an invalid answer${where}: ${issue?.message ?? "schema mismatch"}`;
  } else message = `cannot list the tools of ${name}: ${err instanceof Error ? err.message : String(err)}`;
  return new AssayError("input_unreadable", message, { cause: err });
}

/** A zod validation error (the SDK's check of an answer), told by its shape. */
function isSchemaError(
  err: unknown,
): err is { issues: Array<{ path: ReadonlyArray<PropertyKey>; message: string }> } {
  return (
    // zod 3 names it `ZodError`, zod 4's core `$ZodError`.
    err instanceof Error &&
    /^\$?ZodError$/.test(err.name) &&
    Array.isArray((err as { issues?: unknown }).issues)
  );
}
