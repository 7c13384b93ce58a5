import { mkdir, readdir } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type Column,
  checkDeclaredTools,
  type DenyResult,
  type Finding,
  judgeDeny,
  judgeServer,
  type ServerResult,
} from "./compare.js";
import { readGateRecords } from "./gate-records.js";
import type { Runner } from "./runner-install.js";
import { type Service, startService } from "./services.js";
import { runSuite, SuiteError, type SuiteRun } from "./suite.js";

/**
 * The parts of a conformance run (scripts/conformance.ts drives them): the servers and how each
 * is served (directly, through `assay mcp proxy`, behind the stdio bridge with and without
 * `assay mcp wrap`), the suite runs against each, and the judgement of one server's results.
 */
export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const ALLOW_PACK = join(ROOT, "test/conformance/allow-all.yaml");
export const DENY_PACK = join(ROOT, "test/conformance/deny-sampling.yaml");
export const DENIED_TOOL = "test_sampling";
const EVERYTHING = join(ROOT, "node_modules/@modelcontextprotocol/server-everything/dist/index.js");
const SUITE_TIMEOUT_MS = 240_000;
/** Suite runs at once: the wrap runs are bound by CPU (a gate process starting per session). */
export const JOBS = Math.max(2, Math.min(4, availableParallelism()));

export const say = (line: string) => process.stderr.write(`conformance: ${line}\n`);

export interface ServerSpec {
  name: string;
  label: string;
  /** Served directly over Streamable HTTP. */
  http: { cmd: string; args: string[]; env?: NodeJS.ProcessEnv; ready: (line: string) => string | undefined };
  /** The same server on stdio. */
  stdio: string[];
  denyCheck: boolean;
}

export function serverSpecs(build: string): ServerSpec[] {
  const node = process.execPath;
  return [
    {
      name: "fixture",
      label: "test/conformance/fixture-server.ts (the suite's tools, resources and prompts)",
      http: { cmd: node, args: [join(build, "fixture-server.js"), "--http"], ready: listeningUrl },
      stdio: [node, join(build, "fixture-server.js"), "--stdio"],
      denyCheck: true,
    },
    {
      name: "everything",
      label: "@modelcontextprotocol/server-everything (its own Streamable HTTP transport; stdio)",
      http: {
        cmd: node,
        args: ["--import", join(build, "loopback-preload.js"), EVERYTHING, "streamableHttp"],
        env: { ...process.env, PORT: "0" },
        ready: (line) => {
          const m = /^loopback-preload: listening ([\d.]+):(\d+)$/.exec(line);
          return m === null ? undefined : `http://${m[1]}:${m[2]}/mcp`;
        },
      },
      stdio: [node, EVERYTHING, "stdio"],
      denyCheck: false,
    },
  ];
}

function listeningUrl(line: string): string | undefined {
  return /^listening (http:\/\/\S+)$/.exec(line)?.[1];
}

function proxyUrl(line: string): string | undefined {
  return /^assay mcp proxy: listening on (\S+), upstream/.exec(line)?.[1];
}

export class Run {
  constructor(
    /** The CLI under test (`bin/assay` or another build's). */
    readonly assay: string,
    readonly runner: Runner,
    readonly build: string,
    readonly work: string,
  ) {}

  async service(
    name: string,
    cmd: string,
    args: string[],
    ready: (l: string) => string | undefined,
    env?: NodeJS.ProcessEnv,
  ) {
    return startService({ name, cmd, args, cwd: ROOT, env, ready, logFile: join(this.work, `${name}.log`) });
  }

  /** `assay mcp proxy` in front of `upstream`. */
  proxy(name: string, pack: string, upstream: string) {
    const log = join(this.work, `${name}.ndjson`);
    return this.service(
      name,
      process.execPath,
      [
        this.assay,
        "mcp",
        "proxy",
        "--policy",
        pack,
        "--decision-log",
        log,
        "--listen",
        "127.0.0.1:0",
        "--upstream",
        upstream,
      ],
      proxyUrl,
    );
  }

  /** The stdio bridge around `command`, or around `assay mcp wrap -- command` given a pack. */
  async bridge(name: string, command: string[], pack?: string) {
    const dir = join(this.work, name);
    await mkdir(dir, { recursive: true });
    const child =
      pack === undefined
        ? command
        : [
            process.execPath,
            this.assay,
            "mcp",
            "wrap",
            "--policy",
            pack,
            "--decision-log",
            join(dir, "decisions-{session}.ndjson"),
            "--",
            ...command,
          ];
    return this.service(
      name,
      process.execPath,
      [join(this.build, "stdio-bridge.js"), "--log-dir", dir, "--", ...child],
      listeningUrl,
    );
  }

  async suite(name: string, url: string): Promise<Column["run"]> {
    const out = join(this.work, `results-${name}`);
    say(`suite against ${name} (${url})`);
    const run = await runSuite(this.runner, url, out, join(this.work, `suite-${name}.log`), SUITE_TIMEOUT_MS);
    say(`  ${run.statuses.size} scenarios in ${(run.durationMs / 1000).toFixed(1)} s`);
    return run;
  }

  async proxyRecords(name: string) {
    return readGateRecords([join(this.work, `${name}.ndjson`)]);
  }

  async wrapRecords(name: string) {
    const dir = join(this.work, name);
    const files = (await readdir(dir))
      .filter((f) => /^decisions-\d+\.ndjson$/.test(f))
      .map((f) => join(dir, f));
    return readGateRecords(files);
  }
}

export interface ServerOutcome {
  result: ServerResult;
  findings: Finding[];
  deny?: DenyResult[];
  declared?: string;
}

/** A server's services, started; its suite runs are queued with every other server's. */
export async function startServer(run: Run, spec: ServerSpec) {
  say(`server ${spec.name}: starting`);
  const direct = await run.service(
    `${spec.name}-direct`,
    spec.http.cmd,
    spec.http.args,
    spec.http.ready,
    spec.http.env,
  );
  const [proxy, bridge, wrap, proxyDeny, wrapDeny] = await Promise.all([
    run.proxy(`${spec.name}-proxy`, ALLOW_PACK, direct.url),
    run.bridge(`${spec.name}-bridge`, spec.stdio),
    run.bridge(`${spec.name}-wrap`, spec.stdio, ALLOW_PACK),
    spec.denyCheck ? run.proxy(`${spec.name}-proxy-deny`, DENY_PACK, direct.url) : undefined,
    spec.denyCheck ? run.bridge(`${spec.name}-wrap-deny`, spec.stdio, DENY_PACK) : undefined,
  ]);
  return { spec, direct, proxy, bridge, wrap, proxyDeny, wrapDeny };
}

export type Started = Awaited<ReturnType<typeof startServer>>;

export async function judge(run: Run, s: Started, suites: Map<string, SuiteRun>): Promise<ServerOutcome> {
  const col = (svc: Service): Column => {
    const r = suites.get(svc.name);
    if (r === undefined) throw new SuiteError(`no suite run against ${svc.name}`);
    return { run: r };
  };
  const columns: ServerResult["columns"] = {
    direct: col(s.direct),
    proxy: { ...col(s.proxy), records: await run.proxyRecords(s.proxy.name) },
    bridge: col(s.bridge),
    wrap: { ...col(s.wrap), records: await run.wrapRecords(s.wrap.name) },
  };
  const result: ServerResult = { name: s.spec.name, label: s.spec.label, columns };
  const outcome: ServerOutcome = { result, findings: judgeServer(result) };
  const declared = [columns.proxy, columns.wrap]
    .map((c) => checkDeclaredTools(c.records ?? []))
    .find((x) => x);
  if (declared !== undefined) outcome.declared = declared;
  if (s.proxyDeny !== undefined && s.wrapDeny !== undefined) {
    const pd: Column = { ...col(s.proxyDeny), records: await run.proxyRecords(s.proxyDeny.name) };
    const wd: Column = { ...col(s.wrapDeny), records: await run.wrapRecords(s.wrapDeny.name) };
    outcome.deny = [
      judgeDeny(s.spec.name, DENIED_TOOL, { via: "proxy", allow: columns.proxy, deny: pd }),
      judgeDeny(s.spec.name, DENIED_TOOL, { via: "wrap", allow: columns.wrap, deny: wd }),
    ];
  }
  return outcome;
}

/** Run `jobs` with at most `limit` at a time; the first failure stops new ones and is thrown. */
export async function pool<T>(limit: number, jobs: Array<() => Promise<T>>): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (!failed && next < jobs.length) {
      const i = next++;
      const job = jobs[i];
      if (job === undefined) break;
      try {
        results[i] = await job();
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}
