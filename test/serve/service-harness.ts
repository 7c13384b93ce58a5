import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { loadServeConfig } from "../../src/serve/config.js";
import { type RunningService, type StartOptions, startService } from "../../src/serve/server.js";

export const DEV_TOKEN = "dev-token-for-the-tests-only";
export const ROOT = join(import.meta.dirname, "../..");

/** A service started from `yaml` (written into `dir`), with its log lines collected. */
export async function startFromYaml(
  dir: string,
  yaml: string,
  opts: StartOptions = {},
): Promise<RunningService & { logs: () => Record<string, unknown>[] }> {
  const file = join(dir, `serve-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, yaml);
  const stream = new PassThrough();
  const lines: string[] = [];
  let rest = "";
  stream.on("data", (chunk: Buffer) => {
    const parts = (rest + chunk.toString("utf8")).split("\n");
    rest = parts.pop() ?? "";
    lines.push(...parts.filter((l) => l.length > 0));
  });
  const service = await startService(await loadServeConfig(file), { logStream: stream, ...opts });
  return Object.assign(service, { logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) });
}

/** The dev-profile config most tests use: both example policies, the dev token, an ephemeral port. */
export function devYaml(extra = ""): string {
  return [
    "profile: dev",
    "listen: 127.0.0.1:0",
    "policies:",
    `  - ${join(ROOT, "packs/mcp-baseline.yaml")}`,
    `  - ${join(ROOT, "examples/adapt/lksg.v1.yaml")}`,
    "auth:",
    `  dev_token: ${DEV_TOKEN}`,
    "log_level: info",
    extra,
  ].join("\n");
}

export async function call(
  service: { url: string },
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Headers; json: () => Promise<unknown>; text: string }> {
  const res = await fetch(`${service.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${DEV_TOKEN}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
      ...headers,
    },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, json: async () => JSON.parse(text) };
}
