import assert from "node:assert/strict";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { type CaptureFiles, writeArchive } from "../../src/runner/archive.js";
import { assertBuilt } from "../gate/helpers.js";
import { runAssay } from "../run-assay.js";
import { s5 } from "../runner/contract-fixtures.js";
import { suiteTempDir } from "../temp-dir.js";

// The runner's CLI surface, one spawn per behaviour; what it computes is tested in test/runner/.

const dir = suiteTempDir("assay-runner-cli-");

/** A capture directory holding the S5 golden documents, changed by `edit`. */
async function evidenceDir(
  name: string,
  edit: (d: ReturnType<typeof s5>) => void = () => {},
): Promise<string> {
  const docs = s5();
  edit(docs);
  const files: CaptureFiles = {
    "capability-surface.json": docs.surface,
    "correlation-report.json": docs.correlation,
    "events.ndjson": "",
    "layers/kernel.ndjson": "",
    "layers/policy.ndjson": "",
    "layers/sdk.ndjson": "",
    "observation-health.json": docs.health,
  };
  const out = join(dir, name);
  await writeArchive(out, files);
  return out;
}

describe("assay runner", () => {
  before(() => assertBuilt());

  test("capture: the agent's exit code, a summary on stderr, health JSON on stdout with --json", async () => {
    const out = join(dir, "cap.tar.gz");
    const r = runAssay([
      "runner",
      "capture",
      "--out",
      out,
      "--run-id",
      "run_cli",
      "--kernel",
      "off",
      "--json",
      "--",
      process.execPath,
      "-e",
      "process.exit(3)",
    ]);
    assert.equal(r.code, 3, r.err);
    assert.match(r.err, /^runner: .*cap\.tar\.gz: run run_cli: kernel_layer=absent .*; agent exit 3$/m);
    assert.equal(JSON.parse(r.out).schema, "assay.runner.observation_health.v0");
    assert.ok((await readFile(out)).length > 0);
  });

  test("capture: a bad option is one line and exit 2", () => {
    const r = runAssay(["runner", "capture", "--out", join(dir, "x"), "--timeout", "soon", "--", "true"]);
    assert.equal(r.code, 2);
    assert.equal(r.err.trim(), "assay: --timeout must be a positive number of seconds, got `soon`");
  });

  test("capture: a timeout longer than a timer holds is refused, not fired at once", () => {
    const r = runAssay(["runner", "capture", "--out", join(dir, "y"), "--timeout", "3000000", "--", "true"]);
    assert.equal(r.code, 2, r.err);
    assert.equal(r.err.trim(), "assay: --timeout must be at most 2147483 seconds, got `3000000`");
  });

  test("diff: 0 identical, 1 a difference, 2 preconditions not met (document still written), 2 unreadable", async () => {
    const base = await evidenceDir("base");
    const denied = await evidenceDir("denied", (d) => {
      (d.correlation.bindings[0] as { policy_decision: string }).policy_decision = "deny";
      d.surface.policy_decisions = ["deny:read_file"];
    });
    const unclean = await evidenceDir("unclean", (d) => {
      d.health.kernel_layer = "absent";
    });

    const same = runAssay(["runner", "diff", base, base]);
    assert.equal(same.code, 0, same.err);
    assert.equal(JSON.parse(same.out).status, "clean");

    const changed = runAssay(["runner", "diff", base, denied, "--out", join(dir, "diff.json")]);
    assert.equal(changed.code, 1, changed.err);
    assert.equal(changed.out, "");
    const written = JSON.parse(await readFile(join(dir, "diff.json"), "utf8"));
    assert.deepEqual(written.policy_outcomes.changed, [
      { tool_call_id: "tc_runner_policy_001", base: "allow", head: "deny" },
    ]);

    const partial = runAssay(["runner", "diff", base, unclean]);
    assert.equal(partial.code, 2);
    assert.equal(JSON.parse(partial.out).status, "partial:health");
    assert.match(partial.err, /status partial:health/);

    const missing = runAssay(["runner", "diff", base, join(dir, "nope")]);
    assert.equal(missing.code, 2);
    assert.equal(missing.out, "");
    assert.equal(missing.err.trim().split("\n").length, 1);
  });
});
