import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** An import specifier for a module of this repository, by its path from the root (`src/...`). */
export function repoModule(path: string): string {
  return JSON.stringify(fileURLToPath(new URL(`../../${path}`, import.meta.url)));
}

/**
 * What ES module `code` prints, run in a fresh node process (through tsx, so it can import
 * src/*.ts): a determinism test compares against this, not against a second call in its own
 * process, where module state, caches and warmed-up code are shared.
 */
export function freshProcessStdout(code: string): string {
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], {
    cwd: ROOT,
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    timeout: 120_000,
  });
  if (r.status !== 0) {
    throw new Error(`the fresh process failed (${r.status ?? r.signal}): ${r.stderr || r.error?.message}`);
  }
  return r.stdout;
}

/** The soak report (its file's text) of one run of `runSoak`, in a fresh process. */
export function soakReportInFreshProcess(opts: {
  target: string;
  iterations: number;
  seed: bigint;
  deterministic?: boolean;
  trialLimit?: number;
}): string {
  return freshProcessStdout(`
import { loadBundle } from ${repoModule("src/sim/target/load.ts")};
import { runSoak } from ${repoModule("src/sim/soak/run.ts")};
import { serializeSoakReport } from ${repoModule("src/sim/soak/report.ts")};
const bundle = await loadBundle(${JSON.stringify(opts.target)});
const { report } = await runSoak({
  bundle,
  iterations: ${opts.iterations},
  seed: ${opts.seed}n,
  assayVersion: "test",
  deterministic: ${opts.deterministic === true},
  ${opts.trialLimit === undefined ? "" : `trialLimit: ${opts.trialLimit},`}
});
process.stdout.write(serializeSoakReport(report));
`);
}
