import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { compilePolicy } from "../../src/policy/compile.js";
import { decide } from "../../src/policy/decide.js";
import { pack, rule } from "./helpers.js";

const RULES = [
  rule("shell", { tools: { deny: ["exec", "shell*", "*_command", "bash"] } }),
  rule("fs", { tools: { allow: ["read_*", "list_*", "echo"], deny: ["*_write"] } }),
];
const compile = () => compilePolicy([pack("memo", RULES, { defaults: "deny" })]);
const NAMES = [
  "echo",
  "read_file",
  "list_dir",
  "exec",
  "shell_run",
  "run_command",
  "bash",
  "BaSh",
  "bаsh",
  "fs_write",
  "fetch",
  "",
  // Names both rules reach: one allows what the other denies.
  "read_command",
  "list_command",
  "shell_write",
  "readCommand",
];

test("a tools rule decides a tool the same on every call, whatever came before, past its memo's bound", () => {
  const warm = compile();
  const name = fc.oneof(fc.constantFrom(...NAMES), fc.string({ maxLength: 8 }));
  fc.assert(
    fc.property(fc.array(name, { minLength: 1, maxLength: 25 }), (tools) => {
      for (const tool of tools) {
        const want = decide(compile(), { tool, arguments: {} });
        assert.deepEqual(decide(warm, { tool, arguments: {} }), want, tool);
      }
    }),
    { numRuns: 150 },
  );
  // More names than the memo keeps: it starts over, and known names are still decided right.
  for (let i = 0; i < 9000; i++) {
    const tool = i % 4 === 0 ? (NAMES[i % NAMES.length] as string) : `tool_${i}`;
    const got = decide(warm, { tool, arguments: {} });
    if (i % 97 === 0 || i % 4 === 0) assert.deepEqual(got, decide(compile(), { tool, arguments: {} }), tool);
  }
});

test("each tools rule keeps its own outcomes: a name one rule allows and another denies stays denied", () => {
  const policy = compile();
  for (let i = 0; i < 3; i++) {
    const d = decide(policy, { tool: "read_command", arguments: {} });
    assert.equal(d.effect, "deny", `call ${i + 1}`);
    assert.equal(d.rule_id, "shell");
    assert.equal(decide(policy, { tool: "read_file", arguments: {} }).effect, "allow");
  }
});
