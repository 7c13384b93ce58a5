import assert from "node:assert/strict";
import { cpSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { AssayError } from "../../src/lib/errors.js";
import type { Artifact } from "../../src/matrix/artifact.js";
import { buildMatrix } from "../../src/matrix/build-matrix.js";
import { campaignSummary, evidenceCampaign } from "../../src/matrix/campaign.js";
import { parseCriterion } from "../../src/matrix/criterion.js";
import { judgeClaim } from "../../src/matrix/judge-claim.js";
import { parseRegistry } from "../../src/matrix/registry.js";
import { soakRuns } from "../../src/matrix/soak-runs.js";
import { readArtifact } from "../../src/matrix/sources/read-artifact.js";
import { ROOT } from "../run-assay.js";
import { suiteTempDir } from "../temp-dir.js";

const G = join(ROOT, "test/fixtures/matrix/golden");
const WEEK = { text: "7d", seconds: 604_800 };
const bench = (data: Record<string, unknown>): Artifact => ({
  kind: "bench",
  path: "b.json",
  sha256: `sha256:${"0".repeat(64)}`,
  timestamp: "2026-12-01T00:00:00Z",
  timestamp_source: "recorded_at_utc",
  data,
  recorded: null,
});

describe("matrix edge cases", () => {
  const dir = suiteTempDir("assay-matrix-edges-");

  test("a compound criterion reports every value it compared", () => {
    const c = parseCriterion("ratio_vs_cedar >= 2.0 && p50_us <= 0.001");
    const a = bench({ ratio_vs_cedar: 14.29, p50_us: 5.49 });
    assert.equal(c.value(a), false);
    assert.deepEqual(c.found(a), { ratio_vs_cedar: 14.29, p50_us: 5.49 });
    assert.equal(parseCriterion("valid").found(bench({ valid: true })), undefined);
  });

  test("keys named like CEL types are reached through `artifact`, not shadowing the type", () => {
    const a = bench({ list: [1, 2], type: "x" });
    assert.equal(parseCriterion("size(artifact.list) == 2 && artifact.type == 'x'").value(a), true);
  });

  test("a signal value that names an Object.prototype member is not mapped", () => {
    const r = parseRegistry(
      "version: 1\ngroups:\n  - id: g\n    title: G\n    claims:\n      - id: G-SIG-01\n        claim: c\n        required_for: ga\n        evidence: [{ kind: bench, file: b.json, criterion: 'true' }]\n        state_override_signal: { file: b.json, expression: name, states: { ready: VALIDATED } }\n",
      "claims.yaml",
      `sha256:${"0".repeat(64)}`,
    );
    const spec = r.groups[0]?.claims[0];
    assert.ok(spec);
    const row = judgeClaim(spec, () => bench({ name: "constructor" }));
    assert.equal(row.state, "DEFER");
    assert.equal(row.signal?.state, null);
  });

  test("no artifacts read, with --now: the campaign does not hold and says why", () => {
    const c = evidenceCampaign([], WEEK, "2026-12-06T00:00:00Z");
    assert.equal(c.holds, false);
    assert.equal(campaignSummary(c), "no evidence artifacts were read");
  });

  test("a soak report without the optional violations, trials_run and pass_hat_k still charts", async () => {
    const report = JSON.parse(readFileSync(join(G, "evidence/soak-a.json"), "utf8"));
    delete report.violations;
    delete report.summary.thresholds_used.trials_run;
    delete report.summary.thresholds_used.pass_hat_k;
    writeFileSync(join(dir, "bare-soak.json"), JSON.stringify(report));
    const a = await readArtifact("soak_report", join(dir, "bare-soak.json"), "bare-soak.json");
    const [run] = soakRuns([a]);
    assert.equal(run?.trials, null);
    assert.deepEqual(run?.violations, []);
    assert.deepEqual(run?.pass_hat_k, []);
  });

  test("JUnit counts a file declares never hide a failed case", async () => {
    const xml =
      '<testsuites timestamp="2026-12-01T00:00:00Z"><testsuite name="s" tests="1" failures="0"><testcase name="a"><failure message="boom"/></testcase></testsuite></testsuites>';
    writeFileSync(join(dir, "lying.xml"), xml);
    const a = await readArtifact("junit", join(dir, "lying.xml"), "lying.xml");
    const suites = a.data.suites as { failures: number }[];
    assert.equal(suites[0]?.failures, 1);
    assert.equal(a.data.failures, 1);
  });

  describe("evidence lookup", () => {
    const registry = (file: string) => {
      const p = join(dir, `claims-${file.replace(/\W/g, "_")}.yaml`);
      writeFileSync(
        p,
        `version: 1\ngroups:\n  - id: g\n    title: G\n    claims:\n      - { id: G-ONE-01, claim: c, required_for: ga, evidence: [{ kind: bench, file: "${file}", criterion: "ratio_vs_cedar >= 2.0" }] }\n`,
      );
      return p;
    };
    const opts = (claims: string, evidence: string[]) => ({
      claims,
      evidence,
      window: WEEK,
      now: "2026-12-06T12:00:00Z",
      cwd: dir,
    });

    test('a file that cannot be looked at (a link loop) is an error, never "missing"', async () => {
      const ev = join(dir, "loop");
      cpSync(join(G, "evidence"), ev, { recursive: true });
      symlinkSync("self.json", join(ev, "self.json"));
      await assert.rejects(buildMatrix(opts(registry("self.json"), [ev])), (err: unknown) => {
        assert.ok(err instanceof AssayError);
        assert.equal(err.code, "matrix_artifact_invalid");
        assert.match(err.message, /ELOOP/);
        return true;
      });
    });

    test("a name that starts with two dots is a name, and one directory named twice is one directory", async () => {
      const ev = join(dir, "dots");
      cpSync(join(G, "evidence"), ev, { recursive: true });
      cpSync(join(ev, "bench-policy.json"), join(ev, "..old.json"));
      const doc = await buildMatrix(opts(registry("..old.json"), [ev, `${ev}/`, join(dir, "dots", ".")]));
      assert.equal(doc.matrix[0]?.state, "VALIDATED");
      assert.equal(doc.matrix[0]?.evidence[0]?.path, "dots/..old.json");
    });
  });
});
