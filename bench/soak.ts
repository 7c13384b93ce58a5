/**
 * Soak benchmark: `npm run bench:soak [-- --json]`.
 *
 * What is measured, on this machine, against the shipped build (tsc → dist/; `npm run bench:soak`
 * builds it first, and the benchmark warns when dist/ is older than src/):
 *
 * A soak of examples/demo-agent (scripted driver, run seed 1, default time budget and the default
 * trial limit of 10,000) at two sizes: 20,000 iterations (1×) and 200,000 (10×). Both sizes are
 * past the trial limit, so both keep a 10,000-trial sample; the 10× run shows whether anything
 * else grows with the number of trials. Each run is its own child process, a plain `node` (no tsx:
 * its loader alone adds ~35 MB of RSS) evaluating the CHILD script below, which does what
 * `assay sim soak` does apart from printing: import dist/sim/target/load.js,
 * dist/sim/soak/{run,defaults,report}.js and dist/lib/atomic-write.js, then
 * `loadBundle()`, then `runSoak()`, then `soakReportProblems()` (the schema validation the CLI
 * runs before writing), `serializeSoakReport()` and `writeFileAtomic()` to a file in a temp
 * directory (removed afterwards).
 *
 * - `trials_per_sec` / `trials_per_sec_10x`: iterations / wall time of runSoak + validate +
 *   serialize + write, from process.hrtime.bigint() in the child; the median over ROUNDS child
 *   processes per size. Module import and bundle loading are outside that time (each is shown on
 *   its own row); JIT warm-up is inside it, as it is for a real soak.
 * - `peak_rss_mb` / `peak_rss_mb_10x`: process.resourceUsage().maxRSS of the child (the kernel's
 *   high-water mark, KiB; MB here means 2^20 bytes) read after the report is written, so it
 *   includes node itself, the imported modules and the bundle; median over the rounds.
 *   `rss_ratio_10x` = peak_rss_mb_10x / peak_rss_mb. The table also shows the high-water mark
 *   after import and after loading, and the heap at the end, to tell growth from V8's heap sizing.
 *
 * Sizes alternate from round to round (1×, 10×, 1×, ...), so outside load on this shared machine
 * hits both. Every run must come out as a soak of this bundle should (every trial run, no infra
 * error, every canary passing, a schema-valid report keeping exactly 10,000 trials with
 * `sample_rate` = 10,000 / iterations, the written file the size serialized) or the benchmark
 * stops: otherwise it would measure the wrong thing. The demo's verdict (it has critical
 * violations by design) is printed, not checked.
 *
 * Targets are printed next to the figures, never asserted. With `--json` the last stdout line is
 * one JSON object with the headline numbers.
 */

import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { PACKAGE } from "../src/lib/package-info.js";
import { median, newest, round, table } from "./stats.js";

const JSON_OUT = process.argv.includes("--json");

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIST = join(ROOT, "dist");
const TARGET = join(ROOT, "examples/demo-agent");
const SEED = "1";
const SIZES = [20_000, 200_000] as const;
const ROUNDS = 3;
/** DEFAULT_TRIAL_LIMIT in src/sim/soak/defaults.ts; the child reads the real one and the two are compared. */
const TRIAL_LIMIT = 10_000;

const TARGETS = { trials_per_sec: 5_000, rss_ratio_10x: 1.5 };

/** What one child reports (durations in ms, memory in MB). */
interface ChildResult {
  iterations: number;
  trial_limit: number;
  import_ms: number;
  load_ms: number;
  run_ms: number;
  validate_ms: number;
  serialize_ms: number;
  write_ms: number;
  rss_start_mb: number;
  rss_imported_mb: number;
  rss_loaded_mb: number;
  peak_rss_mb: number;
  heap_used_mb: number;
  heap_total_mb: number;
  problems: string[];
  report_bytes: number;
  file_bytes: number;
  trials_run: number;
  infra_errors: number;
  trials_kept: number;
  iterations_sampled: number;
  sample_rate: number;
  canaries: string[];
  exit: number;
  reasons: string[];
}

// The child: plain ESM run by `node --input-type=module -e`, its one argument a JSON config.
// Everything it imports comes from dist/. Its only stdout is one JSON line.
const CHILD = `
const cfg = JSON.parse(process.argv[1]);
const MB = 1024;
const rss = () => process.resourceUsage().maxRSS / MB;
const now = () => process.hrtime.bigint();
const ms = (a, b) => Number(b - a) / 1e6;
const rssStart = rss();
const t0 = now();
const { loadBundle } = await import(cfg.bundle);
const { runSoak } = await import(cfg.soak);
const { DEFAULT_TRIAL_LIMIT } = await import(cfg.soakDefaults);
const { serializeSoakReport, soakReportProblems } = await import(cfg.soakReport);
const { writeFileAtomic } = await import(cfg.atomicWrite);
const { statSync } = await import("node:fs");
const t1 = now();
const rssImported = rss();
const bundle = await loadBundle(cfg.target);
const t2 = now();
const rssLoaded = rss();
const { report, verdict } = await runSoak({
  bundle,
  iterations: cfg.iterations,
  seed: BigInt(cfg.seed),
  assayVersion: cfg.version,
});
const t3 = now();
const problems = soakReportProblems(report);
const t4 = now();
const text = serializeSoakReport(report);
const t5 = now();
await writeFileAtomic(cfg.report, text);
const t6 = now();
const peak = rss();
const mem = process.memoryUsage();
const used = report.summary.thresholds_used;
process.stdout.write(JSON.stringify({
  iterations: cfg.iterations,
  trial_limit: DEFAULT_TRIAL_LIMIT,
  import_ms: ms(t0, t1),
  load_ms: ms(t1, t2),
  run_ms: ms(t2, t3),
  validate_ms: ms(t3, t4),
  serialize_ms: ms(t4, t5),
  write_ms: ms(t5, t6),
  rss_start_mb: rssStart,
  rss_imported_mb: rssImported,
  rss_loaded_mb: rssLoaded,
  peak_rss_mb: peak,
  heap_used_mb: mem.heapUsed / 2 ** 20,
  heap_total_mb: mem.heapTotal / 2 ** 20,
  problems,
  report_bytes: Buffer.byteLength(text),
  file_bytes: statSync(cfg.report).size,
  trials_run: used.trials_run,
  infra_errors: used.infra_error_count,
  trials_kept: report.trials.length,
  iterations_sampled: report.iterations_sampled?.length ?? 0,
  sample_rate: report.sample_rate,
  canaries: report.canaries.map((c) => c.name + ":" + c.status),
  exit: verdict.exit,
  reasons: verdict.reasons,
}) + "\\n");
`;

function runChild(iterations: number, reportPath: string, version: string): ChildResult {
  const href = (p: string) => pathToFileURL(join(DIST, p)).href;
  const cfg = {
    bundle: href("sim/target/load.js"),
    soak: href("sim/soak/run.js"),
    soakDefaults: href("sim/soak/defaults.js"),
    soakReport: href("sim/soak/report.js"),
    atomicWrite: href("lib/atomic-write.js"),
    target: TARGET,
    iterations,
    seed: SEED,
    version,
    report: reportPath,
  };
  const child = spawnSync(process.execPath, ["--input-type=module", "-e", CHILD, JSON.stringify(cfg)], {
    encoding: "utf8",
    maxBuffer: 16 * 2 ** 20,
  });
  if (child.status !== 0) {
    throw new Error(
      `soak child (${iterations} iterations) exited ${child.status ?? child.signal}: ${child.stderr.trim()}`,
    );
  }
  const r = JSON.parse(child.stdout.trim().split("\n").at(-1) ?? "") as ChildResult;
  check(r);
  return r;
}

/** A run that did not do what a soak of the demo bundle does would make every figure meaningless. */
function check(r: ChildResult): void {
  const n = r.iterations;
  const kept = Math.min(n, TRIAL_LIMIT);
  const wrong: string[] = [];
  if (r.trial_limit !== TRIAL_LIMIT)
    wrong.push(`the default trial limit is ${r.trial_limit}, not ${TRIAL_LIMIT}`);
  if (r.problems.length > 0) wrong.push(`the report is schema-invalid: ${r.problems.slice(0, 3).join("; ")}`);
  if (r.trials_run !== n) wrong.push(`${r.trials_run} of ${n} trials ran`);
  if (r.infra_errors !== 0) wrong.push(`${r.infra_errors} infra errors`);
  const failed = r.canaries.filter((c) => !c.endsWith(":pass"));
  if (r.canaries.length === 0 || failed.length > 0) wrong.push(`canaries: ${r.canaries.join(", ")}`);
  if (r.trials_kept !== kept) wrong.push(`the report keeps ${r.trials_kept} trials, expected ${kept}`);
  if (n > TRIAL_LIMIT && r.iterations_sampled !== kept)
    wrong.push(`iterations_sampled has ${r.iterations_sampled} entries, expected ${kept}`);
  if (r.sample_rate !== kept / n) wrong.push(`sample_rate is ${r.sample_rate}, expected ${kept / n}`);
  if (r.file_bytes !== r.report_bytes)
    wrong.push(`the written report has ${r.file_bytes} bytes, ${r.report_bytes} were serialized`);
  if (wrong.length > 0) throw new Error(`soak of ${n} iterations: ${wrong.join("; ")}`);
}

/** The part of a child's run that counts as the soak: everything after the bundle is loaded. */
function soakMs(r: ChildResult): number {
  return r.run_ms + r.validate_ms + r.serialize_ms + r.write_ms;
}

function main(): void {
  if (!existsSync(join(DIST, "sim/soak/run.js"))) {
    throw new Error(
      "dist/ has no sim/soak/run.js: run `npm run build` (or `npm run bench:soak`, which builds)",
    );
  }
  if (newest(join(ROOT, "src"), ".ts") > newest(DIST, ".js"))
    console.error("warning: dist/ is older than src/; run `npm run build` to measure the current code");
  const { version } = PACKAGE;

  const started = process.hrtime.bigint();
  const runs = new Map<number, ChildResult[]>(SIZES.map((n) => [n, []]));
  const dir = mkdtempSync(join(tmpdir(), "assay-bench-soak-"));
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? SIZES : [...SIZES].reverse();
      for (const n of order) runs.get(n)?.push(runChild(n, join(dir, `report-${n}-${round}.json`), version));
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const totalS = Number(process.hrtime.bigint() - started) / 1e9;

  const of = (n: number) => runs.get(n) as ChildResult[];
  const med = (n: number, f: (r: ChildResult) => number) => median(of(n).map(f));
  const [one, ten] = SIZES;
  const tps = (n: number) => med(n, (r) => n / (soakMs(r) / 1000));
  const runTps = (n: number) => med(n, (r) => n / (r.run_ms / 1000));
  const peak = (n: number) => med(n, (r) => r.peak_rss_mb);
  const tps1 = tps(one);
  const tps10 = tps(ten);
  const peak1 = peak(one);
  const peak10 = peak(ten);
  const ratio = peak10 / peak1;
  const loadMs = median([...of(one), ...of(ten)].map((r) => r.load_ms));

  const mark = (ok: boolean) => (ok ? "met" : "MISSED");
  const int = (v: number) => Math.round(v).toLocaleString("en-US");
  const msCell = (n: number, f: (r: ChildResult) => number) => `${med(n, f).toFixed(1)} ms`;
  const mbCell = (n: number, f: (r: ChildResult) => number) => `${med(n, f).toFixed(1)} MB`;
  const both = (f: (n: number) => string) => [f(one), f(ten)];

  console.log(
    `soak benchmark — dist/ (tsc build), node ${process.version}, ${process.platform}/${process.arch}; ` +
      `examples/demo-agent, seed ${SEED}, trial limit ${TRIAL_LIMIT.toLocaleString("en-US")}; ` +
      `median of ${ROUNDS} child processes per size`,
  );
  console.log("");
  console.log(
    table([
      ["measure", `1× (${int(one)})`, `10× (${int(ten)})`, "target", ""],
      [
        "trials/s (run + validate + serialize + write)",
        int(tps1),
        int(tps10),
        `≥ ${int(TARGETS.trials_per_sec)}`,
        `${mark(tps1 >= TARGETS.trials_per_sec)} / ${mark(tps10 >= TARGETS.trials_per_sec)}`,
      ],
      [
        "trials/s per round",
        ...both((n) =>
          of(n)
            .map((r) => int(n / (soakMs(r) / 1000)))
            .join(" "),
        ),
      ],
      ["trials/s, runSoak alone", ...both((n) => int(runTps(n)))],
      ["soak time (timed)", ...both((n) => msCell(n, soakMs))],
      ["  runSoak", ...both((n) => msCell(n, (r) => r.run_ms))],
      ["  soakReportProblems (schema)", ...both((n) => msCell(n, (r) => r.validate_ms))],
      ["  serializeSoakReport", ...both((n) => msCell(n, (r) => r.serialize_ms))],
      ["  writeFileAtomic", ...both((n) => msCell(n, (r) => r.write_ms))],
      ["loadBundle (not timed)", ...both((n) => msCell(n, (r) => r.load_ms))],
      ["import dist modules (not timed)", ...both((n) => msCell(n, (r) => r.import_ms))],
      ["peak RSS (maxRSS at the end)", ...both((n) => mbCell(n, (r) => r.peak_rss_mb))],
      [
        "peak RSS per round",
        ...both((n) =>
          of(n)
            .map((r) => r.peak_rss_mb.toFixed(1))
            .join(" "),
        ),
      ],
      [
        "rss ratio 10× / 1×",
        "",
        `${ratio.toFixed(2)}×`,
        `≤ ${TARGETS.rss_ratio_10x}×`,
        mark(ratio <= TARGETS.rss_ratio_10x),
      ],
      ["  maxRSS at start (node alone)", ...both((n) => mbCell(n, (r) => r.rss_start_mb))],
      ["  maxRSS after import", ...both((n) => mbCell(n, (r) => r.rss_imported_mb))],
      ["  maxRSS after loadBundle", ...both((n) => mbCell(n, (r) => r.rss_loaded_mb))],
      [
        "  heap used / total at the end",
        ...both((n) => `${mbCell(n, (r) => r.heap_used_mb)} / ${mbCell(n, (r) => r.heap_total_mb)}`),
      ],
      ["report size", ...both((n) => `${int(med(n, (r) => r.report_bytes))} B`)],
      [
        "trials kept / sample_rate",
        ...both((n) => `${int(of(n)[0]?.trials_kept ?? 0)} / ${of(n)[0]?.sample_rate}`),
      ],
    ]),
  );
  console.log("");
  for (const n of SIZES) {
    const r = of(n)[0] as ChildResult;
    const why = r.reasons.length > 0 ? `: ${r.reasons.join("; ")}` : "";
    console.log(`demo verdict at ${int(n)} (by design, not checked): exit ${r.exit}${why}`);
  }
  console.log(`total benchmark time ${totalS.toFixed(1)} s`);
  if (JSON_OUT) {
    console.log(
      JSON.stringify({
        trials_per_sec: Math.round(tps1),
        trials_per_sec_10x: Math.round(tps10),
        peak_rss_mb: round(peak1, 1),
        peak_rss_mb_10x: round(peak10, 1),
        rss_ratio_10x: round(ratio, 3),
        bundle_load_ms: round(loadMs, 1),
      }),
    );
  }
}

main();
