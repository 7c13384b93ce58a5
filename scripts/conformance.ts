/**
 * `npm run conformance`: the official MCP conformance suite (@modelcontextprotocol/conformance,
 * every server scenario) against two servers, each served directly, through `assay mcp proxy`
 * and through `assay mcp wrap` (behind a stdio bridge, compared with the same bridge without
 * the gate), with an allow-all pack: every scenario must end through the gate as it ends without
 * it, and the gate must refuse nothing. Then, on the fixture server, a pack denying one tool must
 * change exactly the scenarios that use that tool. See docs/conformance.md.
 *
 *   tsx scripts/conformance.ts [--assay <bin>] [--server fixture|everything]... [--json <file>] [--keep]
 *
 * Exit codes: 0 all equal; 1 a difference (or a refusal, a missing gate addition, a deny-check
 * mismatch); 2 the runner could not be installed or started, or a server, bridge or gate could
 * not be started, or the suite could not run.
 */
import { rmSync } from "node:fs";
import { mkdir, mkdtemp, readdir, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { schemaValidator } from "../src/lib/schema-validator.js";
import { buildHarness } from "../test/conformance/build.js";
import type { Column, Finding } from "../test/conformance/compare.js";
import { GateLogError } from "../test/conformance/gate-records.js";
import {
  DENIED_TOOL,
  DENY_PACK,
  JOBS,
  judge,
  pool,
  ROOT,
  Run,
  type ServerOutcome,
  type Started,
  say,
  serverSpecs,
  startServer,
} from "../test/conformance/harness.js";
import { ensureRunner, type Runner, RunnerError } from "../test/conformance/runner-install.js";
import {
  killAllServicesNow,
  type Service,
  ServiceError,
  stopAllServices,
} from "../test/conformance/services.js";
import { SuiteError, type SuiteRun } from "../test/conformance/suite.js";
import { denyLines, findingLines, serverTable } from "../test/conformance/table.js";

interface Options {
  assay: string;
  servers: string[];
  json?: string;
  keep: boolean;
}

function parseArgs(argv: string[]): Options {
  const o: Options = { assay: join(ROOT, "bin/assay"), servers: [], keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) usage(`${a} needs a value`);
      return v;
    };
    if (a === "--assay") o.assay = value();
    else if (a === "--server") o.servers.push(value());
    else if (a === "--json") o.json = value();
    else if (a === "--keep") o.keep = true;
    else usage(`unknown argument \`${a}\``);
  }
  return o;
}

function usage(why: string): never {
  process.stderr.write(
    `conformance: ${why}\nusage: tsx scripts/conformance.ts [--assay <bin>] [--server fixture|everything]... [--json <file>] [--keep]\n`,
  );
  process.exit(2);
}

/**
 * The `--json` report (schemas/conformance-report.schema.json, read by `assay matrix` as a
 * `conformance` artifact): `started_at_utc` and `recorded_at_utc` date it, as measurements of time.
 */
function toJson(runner: Runner, outcomes: ServerOutcome[], exitCode: number, startedMs: number) {
  const statuses = (c: Column) => Object.fromEntries(c.run.statuses);
  const recordedMs = Date.now();
  return {
    schema_version: "assay.conformance.v1",
    conformance: runner.conformanceVersion,
    node: runner.nodeVersion,
    exit_code: exitCode,
    started_at_utc: new Date(startedMs).toISOString(),
    recorded_at_utc: new Date(recordedMs).toISOString(),
    duration_ms: recordedMs - startedMs,
    servers: outcomes.map((o) => ({
      name: o.result.name,
      columns: Object.fromEntries(Object.entries(o.result.columns).map(([k, c]) => [k, statuses(c)])),
      findings: o.findings,
      declared_tools: o.declared ?? "ok",
      deny: o.deny,
    })),
  };
}

/** Build directories to remove when interrupted. */
const interrupted: string[] = [];

/** Builds left by runs that were killed (an hour old: a run takes minutes). */
async function removeStaleBuilds(dir: string): Promise<void> {
  for (const entry of await readdir(dir)) {
    if (!entry.startsWith("build-")) continue;
    const path = join(dir, entry);
    const age = Date.now() - (await stat(path)).mtimeMs;
    if (age > 3_600_000) await rm(path, { recursive: true, force: true });
  }
}

async function main(): Promise<number> {
  const started = Date.now();
  const opts = parseArgs(process.argv.slice(2));
  const work = await mkdtemp(join(tmpdir(), "assay-conformance-"));
  const buildRoot = join(ROOT, "node_modules", ".cache", "assay-conformance");
  await mkdir(buildRoot, { recursive: true });
  await removeStaleBuilds(buildRoot);
  const build = await mkdtemp(join(buildRoot, "build-"));
  interrupted.push(build);
  let keep = opts.keep;
  try {
    let runner: Runner;
    try {
      runner = await ensureRunner(ROOT, say);
    } catch (err) {
      say(`the conformance runner could not be installed: ${(err as Error).message}`);
      return 2;
    }
    say(
      `@modelcontextprotocol/conformance ${runner.conformanceVersion} on node ${runner.nodeVersion}; logs in ${work}`,
    );
    await buildHarness(ROOT, build);
    const run = new Run(opts.assay, runner, build, work);
    const specs = serverSpecs(build).filter(
      (s) => opts.servers.length === 0 || opts.servers.includes(s.name),
    );
    if (specs.length === 0) usage(`no such server: ${opts.servers.join(", ")}`);
    const startedServers: Started[] = [];
    for (const spec of specs) startedServers.push(await startServer(run, spec));
    const services = startedServers.flatMap((s) =>
      [s.direct, s.proxy, s.bridge, s.wrap, s.proxyDeny, s.wrapDeny].filter(
        (x): x is Service => x !== undefined,
      ),
    );
    // longest first: a wrap run starts a gate and a server per session
    const cost = (svc: Service) => (/-wrap/.test(svc.name) ? 0 : /-bridge/.test(svc.name) ? 1 : 2);
    const suites = new Map<string, SuiteRun>();
    await pool(
      JOBS,
      [...services]
        .sort((a, b) => cost(a) - cost(b))
        .map((svc) => async () => {
          suites.set(svc.name, await run.suite(svc.name, svc.url));
        }),
    );
    for (const svc of services) {
      if (svc.exited())
        throw new ServiceError(`${svc.name} exited during the run; see ${join(work, `${svc.name}.log`)}`);
    }
    const outcomes: ServerOutcome[] = [];
    for (const s of startedServers) outcomes.push(await judge(run, s, suites));

    const out: string[] = [];
    const findings: Finding[] = [];
    for (const o of outcomes) {
      out.push("", `${o.result.name}: ${o.result.label}`, ...serverTable(o.result));
      findings.push(...o.findings);
      if (o.deny !== undefined) {
        out.push("", ...denyLines(o.result.name, DENIED_TOOL, relative(ROOT, DENY_PACK), o.deny));
        findings.push(...o.deny.flatMap((d) => d.findings));
      }
    }
    out.push(
      "",
      "status: pass | warn (a WARNING check) | fail (a FAILURE check) | error (no checks saved);",
      "  ! differs from direct (proxy) or bridge (wrap); * the gate refused a call or frame under the allow-all pack; + a declared gate addition",
    );
    const declared = outcomes.map((o) => o.declared).find((d) => d !== undefined);
    const differences = findings.filter((f) => f.kind === "difference").length;
    const refused = findings.filter((f) => f.kind === "refused").length;
    const other = findings.length - differences - refused;
    const exitCode = declared !== undefined ? 2 : findings.length > 0 ? 1 : 0;
    if (findings.length > 0) out.push("", "findings:", ...findingLines(findings));
    if (declared !== undefined) out.push("", `declared scenario map: ${declared}`);
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    const scenarios = outcomes
      .map((o) => `${o.result.name} ${o.result.columns.direct.run.statuses.size}`)
      .join(", ");
    out.push(
      "",
      `conformance: ${exitCode === 0 ? "ok" : "FAILED"}: scenarios ${scenarios}; ${differences} status differences, ${refused} scenarios with refusals under allow-all, ${other} other findings; ${seconds} s`,
    );
    process.stdout.write(`${out.join("\n")}\n`);
    if (opts.json !== undefined) {
      const report = toJson(runner, outcomes, exitCode, started);
      const validate = schemaValidator("conformance-report");
      if (!validate(report)) {
        const e = validate.errors?.[0];
        say(
          `the --json report does not match its schema: ${e?.instancePath || "/"} ${e?.message ?? "is invalid"}`,
        );
        keep = true;
        return 2;
      }
      await writeFile(opts.json, `${JSON.stringify(report, null, 2)}\n`);
    }
    if (exitCode !== 0) {
      keep = true;
      say(`logs, decision logs and the suite's checks kept in ${work}`);
    }
    return exitCode;
  } catch (err) {
    keep = true;
    say(`logs kept in ${work}`);
    if (err instanceof ServiceError || err instanceof SuiteError || err instanceof RunnerError) {
      say(err.message);
      return 2;
    }
    if (err instanceof GateLogError) {
      say(`a decision log the gate wrote cannot be read: ${err.message}`);
      return 2;
    }
    throw err;
  } finally {
    await stopAllServices();
    await rm(build, { recursive: true, force: true });
    if (!keep) await rm(work, { recursive: true, force: true });
  }
}

process.on("exit", killAllServicesNow);
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killAllServicesNow();
    for (const dir of interrupted) rmSync(dir, { recursive: true, force: true });
    process.exit(2);
  });
}
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`conformance: internal error: ${(err as Error).stack ?? String(err)}\n`);
    process.exit(2);
  },
);
