import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { sha256Hex } from "../src/lib/canonical-json.js";
import { PACKAGE } from "../src/lib/package-info.js";
import { compilePacks } from "../src/policy/compile-packs.js";
import { DEFAULT_TIME_BUDGET_SECONDS, DEFAULT_TRIAL_LIMIT } from "../src/sim/soak/defaults.js";
import { serializeSoakReport } from "../src/sim/soak/report.js";
import { runSoak } from "../src/sim/soak/run.js";
import { loadBundle } from "../src/sim/target/load.js";
import { ROOT, runAssay } from "./run-assay.js";
import { tempDir } from "./temp-dir.js";

// Golden digests: what users hold on to. A signed audit kit names the policy digest, the bundle
// digest and the soak report's sha256; stored baselines and readiness histories compare against
// them. A change that shifts any of these values breaks every signed kit and stored baseline, so
// it must be a deliberate decision, noted in CHANGELOG.md, with the new value written here.

/** `assay policy check packs/mcp-baseline.yaml` prints this digest. */
const BASELINE_POLICY_DIGEST = "sha256:18e9f3e09f574db81c63d36f6343502845ac716e7168dc8ae0ba6ac9ad72f317";
/** The bundle digest of examples/demo-agent (`target` in `assay sim soak`'s summary). */
const DEMO_BUNDLE_DIGEST = "sha256:cdf27eb7aabc93f4dcb4a5ed13422ef692d075c409d2234f6adb3add8ad3afb0";
/**
 * sha256 of the report file of `assay sim soak --target examples/demo-agent --iterations 2000
 * --seed 1 --deterministic --report r.json` written by assay 0.1.0. The report names the version
 * that wrote it (`assay_version`), so this is pinned for that version; the CLI test below
 * compares the CLI with the library at whatever version package.json says.
 */
const DEMO_SOAK_REPORT_SHA256 = "2c9a18b1abdcf664da867bf1705ba8183bfd19b345a4087d0fd89fc7babd1ff5";
const DEMO_SOAK_REPORT_VERSION = "0.1.0";

const PACK = join(ROOT, "packs/mcp-baseline.yaml");
const DEMO = join(ROOT, "examples/demo-agent");
const ITERATIONS = 2000;
const SEED = 1n;

/** The report file `assay sim soak ... --deterministic` writes (src/cli/actions/sim.ts), made in this process. */
async function demoSoakReport(assayVersion: string): Promise<string> {
  const { report } = await runSoak({
    bundle: await loadBundle(DEMO),
    iterations: ITERATIONS,
    seed: SEED,
    assayVersion,
    timeBudgetSeconds: DEFAULT_TIME_BUDGET_SECONDS,
    trialLimit: DEFAULT_TRIAL_LIMIT,
    deterministic: true,
    concurrency: 1,
    driverOptions: {},
    judge: "thresholds",
  });
  return serializeSoakReport(report);
}

describe("golden digests (a change here breaks signed kits and stored baselines)", () => {
  test("the policy digest of packs/mcp-baseline.yaml", async () => {
    assert.equal((await compilePacks([PACK])).digest, BASELINE_POLICY_DIGEST);
  });

  test("the bundle digest of examples/demo-agent", async () => {
    assert.equal((await loadBundle(DEMO)).digest, DEMO_BUNDLE_DIGEST);
  });

  test("the sha256 of a seeded --deterministic soak report of examples/demo-agent", async () => {
    const text = await demoSoakReport(DEMO_SOAK_REPORT_VERSION);
    assert.equal(sha256Hex(text), DEMO_SOAK_REPORT_SHA256);
    const report = JSON.parse(text);
    assert.equal(report.target.bundle_digest, DEMO_BUNDLE_DIGEST);
    assert.equal(report.assay_version, DEMO_SOAK_REPORT_VERSION);
  });

  test("`assay sim soak --deterministic` writes the bytes the library makes (built CLI)", async (t) => {
    const out = join(tempDir("assay-golden-", t), "r.json");
    const seed = String(SEED);
    const args = ["sim", "soak", "--target", DEMO, "-n", String(ITERATIONS), "--seed", seed];
    const r = runAssay([...args, "--deterministic", "--report", out, "--no-progress"], ROOT);
    // The demo agent slips now and then, critical egress included: the verdict is a finding.
    assert.equal(r.code, 1, r.err);
    const written = readFileSync(out, "utf8");
    assert.equal(sha256Hex(written), sha256Hex(await demoSoakReport(PACKAGE.version)));
    if (PACKAGE.version === DEMO_SOAK_REPORT_VERSION)
      assert.equal(sha256Hex(written), DEMO_SOAK_REPORT_SHA256);
  });
});
