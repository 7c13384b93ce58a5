import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compilePolicy } from "../../src/policy/compile.js";
import { decide } from "../../src/policy/decide.js";
import { loadPack } from "../../src/policy/load-pack.js";
import { runPolicyTestFile } from "../../src/policy/policy-test.js";

describe("the packs we ship", () => {
  test("packs/mcp-baseline.test.yaml: every case passes", async () => {
    const results = await runPolicyTestFile("packs/mcp-baseline.test.yaml");
    const failed = results.filter((r) => !r.passed);
    assert.deepEqual(
      failed.map((r) => `${r.name}: ${JSON.stringify(r.mismatches)}`),
      [],
    );
    assert.ok(results.length > 100);
  });

  test("examples/gate-pack.yaml confines every path of read_multiple_files to the workspace", async () => {
    const policy = compilePolicy([await loadPack("examples/gate-pack.yaml")]);
    const context = { workspace: "/tmp/ws" };
    const call = (paths: unknown) =>
      decide(policy, { tool: "read_multiple_files", arguments: { paths } }, context).effect;
    assert.equal(call(["/tmp/ws/a.txt", "/tmp/ws/b/c.txt"]), "allow");
    assert.equal(call(["/tmp/ws/a.txt", "/etc/passwd"]), "deny");
    assert.equal(call(["/tmp/ws/../../etc/passwd"]), "deny");
    assert.equal(call(["/tmp/ws-evil/x"]), "deny");
    assert.equal(call("/tmp/ws/a.txt"), "deny");
    assert.equal(decide(policy, { tool: "read_multiple_files", arguments: {} }, context).effect, "deny");
    // The single-path read tools keep their rule.
    const read = (path: string) =>
      decide(policy, { tool: "read_text_file", arguments: { path } }, context).effect;
    assert.equal(read("/tmp/ws/a.txt"), "allow");
    assert.equal(read("/etc/passwd"), "deny");
  });
});
