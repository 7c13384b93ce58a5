import assert from "node:assert/strict";
import { readFileSync, rmSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { AssayError } from "../../../src/lib/errors.js";
import { DEFAULT_READINESS_THRESHOLDS, parseReadinessPolicy } from "../../../src/sim/readiness/policy.js";
import type { SoakReport } from "../../../src/sim/soak/report.js";
import { readSchema } from "../../read-schema.js";
import { tempDir } from "../../temp-dir.js";
import { assess, history, soakReports, steadyBundle, UPSTREAM_POLICY } from "./fixtures.js";

let steady: SoakReport[] = [];
let dir = "";

before(async () => {
  dir = tempDir("assay-readiness-");
  steady = await soakReports(steadyBundle(dir), 15);
});

after(() => rmSync(dir, { recursive: true, force: true }));

describe("readiness policy", () => {
  test("the upstream soak_readiness_policy_v1 file maps onto the thresholds", () => {
    const p = parseReadinessPolicy(readFileSync(UPSTREAM_POLICY, "utf8"), "upstream.json");
    assert.equal(p.format, "upstream");
    assert.equal(p.policy_version, "soak_readiness_policy_v1");
    assert.deepEqual(p.thresholds, {
      ...DEFAULT_READINESS_THRESHOLDS,
      window: 20,
      min_runs: 14,
      min_pass_rate: 0.9,
      max_infra_error_rate: 0.01,
      max_contract_fail_rate: 0.05,
      max_unknown_rate: 0.05,
    });
    const r = assess(history(steady.slice(0, 15)), p);
    assert.equal(r.verdict, "ready");
    assert.deepEqual(
      r.criteria.slice(-2).map((c) => [c.id, c.observed, c.status]),
      [
        ["contract_fail_rate", 0, "met"],
        ["unknown_rate", 0, "met"],
      ],
    );
  });

  test("Assay's format: every key optional, the rest default; YAML or JSON", () => {
    const p = parseReadinessPolicy(
      "schema_version: readiness-policy-v1\nwindow: 10\nmin_runs: 5\nmin_span_days: 3\n",
      "p.yaml",
    );
    assert.equal(p.format, "assay");
    assert.deepEqual(p.thresholds, {
      ...DEFAULT_READINESS_THRESHOLDS,
      window: 10,
      min_runs: 5,
      min_span_days: 3,
    });
    assert.deepEqual(parseReadinessPolicy("{}", "p.json").thresholds, DEFAULT_READINESS_THRESHOLDS);
    const r = assess(history(steady.slice(0, 6)), p);
    assert.equal(r.verdict, "ready");
    assert.equal(r.runs.length, 6);
  });

  test("bad policies: input_invalid at file:line:col", () => {
    const bad = (text: string) => {
      try {
        parseReadinessPolicy(text, "p.yaml");
      } catch (err) {
        assert.ok(err instanceof AssayError);
        assert.equal(err.code, "input_invalid");
        return `${err.where}: ${err.message}`;
      }
      assert.fail("expected an error");
    };
    assert.equal(
      bad("window: 20\nmin_pass_rat: 0.9\n"),
      "p.yaml:2:15: min_pass_rat: unknown key `min_pass_rat`; did you mean `min_pass_rate`?",
    );
    assert.match(bad("min_pass_rate: 1.5\n"), /^p\.yaml:1:16: min_pass_rate: must be <= 1$/);
    assert.match(
      bad("window: 5\nmin_runs: 6\n"),
      /^p\.yaml:2:11: min_runs: 6 runs can never fit in a window of 5$/,
    );
    assert.match(bad("a: [\n"), /^p\.yaml:\d+:\d+: /);
    assert.match(
      bad(
        '{"policy_version": "soak_readiness_policy_v1", "window": {"runs_observed_target": 20}, "thresholds": {}}',
      ),
      /missing required key `runs_observed_minimum`/,
    );
    assert.match(
      bad(
        '{"policy_version": "soak_readiness_policy_v1", "window": {"runs_observed_target": 20, "runs_observed_minimum": 14}, "thresholds": {"succes_rate_min": 0.9}}',
      ),
      /unknown key `succes_rate_min`; did you mean `success_rate_min`\?/,
    );
  });

  test("the schemas' $ids are pinned", () => {
    assert.equal(
      readSchema("readiness-policy.schema.json").$id,
      "https://assay.dev/schemas/readiness-policy.schema.json",
    );
    assert.equal(
      readSchema("soak-readiness.schema.json").$id,
      "https://assay.dev/schemas/soak-readiness.schema.json",
    );
  });
});
