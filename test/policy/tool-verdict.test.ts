import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compilePolicy } from "../../src/policy/compile.js";
import { toolDeniedOutright } from "../../src/policy/tool-verdict.js";
import { pack, rule } from "./helpers.js";

describe("toolDeniedOutright: what the gate hides from tools/list", () => {
  const policy = compilePolicy([
    pack(
      "p",
      [
        rule("names", { tools: { allow: ["read_*", "search"], deny: ["fs_*_write", "exec"] } }),
        rule("paths", {
          args: { tools: ["read_*"], schema: { type: "object", required: ["path"] } },
        }),
        rule("prod-only", { when: ['context.env == "prod"'], tools: { deny: ["search"] } }),
      ],
      { defaults: "deny" },
    ),
  ]);

  test("denied by a tools rule or by defaults: deny", () => {
    assert.equal(toolDeniedOutright(policy, "exec")?.reason_code, "tool_denied");
    assert.equal(toolDeniedOutright(policy, "fs_tmp_write")?.rule_id, "names");
    assert.equal(toolDeniedOutright(policy, "delete_all")?.reason_code, "tool_not_allowed");
  });

  test("a tool denied only for some arguments stays listed", () => {
    // read_file with no arguments fails `paths`, but that depends on the call, not the name.
    assert.equal(toolDeniedOutright(policy, "read_file"), undefined);
  });

  test("conditions read the gate's context", () => {
    assert.equal(toolDeniedOutright(policy, "search"), undefined);
    assert.equal(toolDeniedOutright(policy, "search", { env: "prod" })?.rule_id, "prod-only");
  });
});
