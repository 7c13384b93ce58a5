import { closeSync, openSync, realpathSync, writeSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { writeFileAtomic } from "../../lib/atomic-write.js";
import { AssayError, EXIT } from "../../lib/errors.js";
import { refuseOverlappingOutputs } from "../../lib/output-paths.js";
import { PACKAGE } from "../../lib/package-info.js";
import { readTextFile } from "../../lib/read-text.js";
import { soakJunit } from "../../report/junit.js";
import { soakSarif } from "../../report/sarif.js";
import { ScenarioResults } from "../../report/scenario-results.js";
import {
  DEFAULT_TIME_BUDGET_SECONDS,
  DEFAULT_TRIAL_LIMIT,
  MAX_CONCURRENCY,
} from "../../sim/soak/defaults.js";
import { mergeSoakReports } from "../../sim/soak/merge.js";
import { ProgressReporter } from "../../sim/soak/progress.js";
import {
  parseSoakReport,
  type SoakReport,
  serializeSoakReport,
  soakReportProblems,
} from "../../sim/soak/report.js";
import { runSoak, type SoakResult } from "../../sim/soak/run.js";
import { parseShard } from "../../sim/soak/shard.js";
import { parseSeed } from "../../sim/stats/seeds.js";
import type { Bundle } from "../../sim/target/load.js";
import { loadBundle } from "../../sim/target/load.js";
import { integerOption, positiveNumberOption } from "../options.js";

const { version } = PACKAGE;

export interface SoakCli {
  target: string;
  iterations?: string;
  seed: string;
  report?: string;
  timeBudget?: string;
  trialLimit?: string;
  trials?: string;
  deterministic?: boolean;
  shard?: string;
  sarif?: string;
  junit?: string;
  progress?: boolean;
  concurrency?: string;
  workDir?: string;
}

/** A file written next to the report, from the report. */
type Projection = { path: string; render: (report: SoakReport) => string };

export async function soak(opts: SoakCli, onePerScenario: boolean): Promise<number> {
  // The target may be a folder (nothing may be written inside it) or a tarball.
  const target = [{ path: opts.target, option: "--target" }];
  refuseOverlappingOutputs(
    [
      { path: opts.report, option: "--report" },
      { path: opts.trials, option: "--trials" },
      { path: opts.sarif, option: "--sarif" },
      { path: opts.junit, option: "--junit" },
    ],
    target,
    target,
  );
  const seed = parseSeed(opts.seed);
  const budget = positiveNumberOption(
    "--time-budget",
    opts.timeBudget ?? String(DEFAULT_TIME_BUDGET_SECONDS),
  );
  const trialLimit = integerOption("--trial-limit", opts.trialLimit ?? String(DEFAULT_TRIAL_LIMIT), 1);
  const shard = opts.shard === undefined ? undefined : parseShard(opts.shard);
  const concurrency = integerOption("--concurrency", opts.concurrency ?? "1", 1, MAX_CONCURRENCY);
  const bundle = await loadBundle(opts.target);
  const iterations = onePerScenario
    ? bundle.target.scenarios.length
    : integerOption("--iterations", opts.iterations ?? "", 1);

  let trialsFd: number | undefined;
  if (opts.trials !== undefined) {
    try {
      trialsFd = openSync(opts.trials, "w");
    } catch (err) {
      throw new AssayError(
        "input_unreadable",
        `cannot write trials: ${(err as NodeJS.ErrnoException).code}`,
        {
          where: opts.trials,
        },
      );
    }
  }
  const scenarioResults = opts.junit === undefined ? undefined : new ScenarioResults(bundle.target.scenarios);
  let result: SoakResult;
  try {
    const reporter = new ProgressReporter((t) => process.stderr.write(t), process.stderr.isTTY === true);
    result = await runSoak({
      bundle,
      iterations,
      seed,
      assayVersion: version,
      timeBudgetSeconds: budget,
      trialLimit,
      deterministic: opts.deterministic === true,
      concurrency,
      driverOptions: opts.workDir === undefined ? {} : { workDir: opts.workDir },
      judge: onePerScenario ? "every_trial" : "thresholds",
      ...(shard === undefined ? {} : { shard }),
      ...(opts.progress === false
        ? {}
        : {
            onProgress: (c, final) => (final ? reporter.end(c) : reporter.update(c)),
          }),
      ...(trialsFd === undefined && scenarioResults === undefined
        ? {}
        : {
            onTrial: (t) => {
              scenarioResults?.add(t);
              if (trialsFd === undefined) return;
              const { violations: _v, ...trial } = t;
              writeSync(trialsFd, `${JSON.stringify({ ...trial, seed: t.seed.toString() })}\n`);
            },
          }),
    });
  } finally {
    if (trialsFd !== undefined) closeSync(trialsFd);
  }

  const projections: Projection[] = [];
  if (opts.sarif !== undefined)
    projections.push({
      path: opts.sarif,
      render: (r) => soakSarif(r, bundle.policy.rules, { targetUri: targetUri(bundle) }),
    });
  if (opts.junit !== undefined && scenarioResults !== undefined)
    projections.push({ path: opts.junit, render: (r) => soakJunit(r, scenarioResults.results()) });
  return finish(result, opts.report, projections);
}

/** The bundle's target file (or its tarball) relative to the working directory, `/`-separated. */
function targetUri(bundle: Bundle): string {
  const file = bundle.kind === "directory" ? join(bundle.root, "assay-target.yaml") : bundle.root;
  // process.cwd() has its symlinks resolved; so must the file, or a target given through a symlinked
  // directory (`$PWD/...` there) would come out as `../../<link>/...`, which code scanning cannot map.
  let real = file;
  try {
    real = realpathSync(file);
  } catch {
    // Loaded a moment ago; if it is gone now, the path as given is the best there is.
  }
  return relative(process.cwd(), real).split(sep).join("/");
}

export async function merge(files: string[], out: string): Promise<number> {
  refuseOverlappingOutputs(
    [{ path: out, option: "--report" }],
    files.map((path) => ({ path, option: "shard" })),
  );
  const shards = await Promise.all(
    files.map(async (where) => {
      const text = await readTextFile(where, "input_unreadable", "shard report");
      try {
        return { where, report: parseSoakReport(text, where) };
      } catch (err) {
        if (err instanceof AssayError) throw err;
        throw new AssayError("input_invalid", `\`${where}\` is not JSON: ${(err as Error).message}`, {
          where,
        });
      }
    }),
  );
  return finish(mergeSoakReports(shards), out);
}

/** Validate and write the report, print the summary, and apply ASSAY_SOAK_GATE to the verdict. */
async function finish(
  result: SoakResult,
  reportPath: string | undefined,
  projections: readonly Projection[] = [],
): Promise<number> {
  const problems = soakReportProblems(result.report);
  if (problems.length > 0) {
    // Never written silently: a report that breaks its contract is a measurement failure.
    throw new AssayError(
      "internal",
      `the soak report does not match soak-report-v1: ${problems.slice(0, 3).join("; ")}`,
    );
  }
  if (reportPath !== undefined) await writeFileAtomic(reportPath, serializeSoakReport(result.report));
  for (const p of projections) await writeFileAtomic(p.path, p.render(result.report));
  printSummary(result.report, result.verdict.reasons, reportPath);

  const gate = (process.env.ASSAY_SOAK_GATE ?? "enforce").toLowerCase();
  if (gate !== "off" && gate !== "warn" && gate !== "enforce") {
    throw new AssayError("usage", `ASSAY_SOAK_GATE must be off, warn or enforce, got \`${gate}\``);
  }
  const code = result.verdict.exit;
  if (gate === "off") return EXIT.ok;
  if (gate === "warn" || result.report.decision_policy.fail_mode === "warn") return code === 2 ? 2 : EXIT.ok;
  return code;
}

function printSummary(r: SoakReport, reasons: string[], reportPath: string | undefined): void {
  const s = r.summary;
  const u = s.thresholds_used as Record<string, unknown>;
  const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
  const lines = [
    `target   ${r.target.bundle_id}  ${r.target.bundle_digest}`,
    `policy   ${r.target.policy_digest}  packs: ${r.target.pack_ids.join(", ")}`,
    `run      ${r.run.run_id}  seed ${r.run.seed}  ${u.trials_run} of ${r.run.iterations} trials  ${r.run.duration_seconds} s`,
    "",
    `pass rate  ${pct(s.pass_rate)}  CI95 [${pct(s.ci_95[0])}, ${pct(s.ci_95[1])}]  (${u.pass_count} pass, ${u.fail_count} fail, ${u.infra_error_count} infra)`,
  ];
  for (const [dim, d] of Object.entries(s.dimensions)) {
    lines.push(
      `  ${dim.padEnd(12)} ${d.pass_count + d.fail_count === 0 ? "-" : pct(d.pass_rate)}  (${d.pass_count}/${d.pass_count + d.fail_count})`,
    );
  }
  const passK = u.pass_hat_k as { k: number; value: number }[];
  if (passK.length > 0)
    lines.push(`pass^k     ${passK.map((p) => `k=${p.k} ${p.value.toFixed(3)}`).join("  ")}`);
  for (const v of (r.violations ?? []).slice(0, 5)) lines.push(`violation  ${v.rule_id} ×${v.count}`);
  for (const c of r.canaries ?? [])
    lines.push(`canary     ${c.name}: ${c.status}${c.notes ? ` (${c.notes})` : ""}`);
  lines.push(
    "",
    `verdict    ${s.pass_all ? "PASS" : "FAIL"}${reasons.length > 0 ? `: ${reasons.join("; ")}` : ""}`,
  );
  if (reportPath) lines.push(`report     ${reportPath}`);
  process.stdout.write(`${lines.join("\n")}\n`);
}
