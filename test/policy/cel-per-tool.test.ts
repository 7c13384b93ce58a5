import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Environment } from "@marcbachmann/cel-js";
import fc from "fast-check";
import { CelCompiler, celBindings } from "../../src/policy/cel.js";

const FS_TOOLS = '!(tool in ["read_file", "write_file", "list_directory"])';

describe("CEL programs that read only the tool name", () => {
  const cel = new CelCompiler();

  test("are answered once per tool name, and only they", () => {
    assert.equal(cel.compile(FS_TOOLS, "/p").perTool, true);
    assert.equal(cel.compile('tool.startsWith("fs_") || tool.matches("^read_")', "/p").perTool, true);
    assert.equal(cel.compile("true", "/p").perTool, true);
    assert.equal(cel.compile('tool == "x" && size(args) > 0', "/p").perTool, false);
    assert.equal(cel.compile('tool == "x" && context.env == "prod"', "/p").perTool, false);
    assert.equal(cel.compile("size(context) > 0", "/p").perTool, false);
    assert.equal(cel.compile("[1].exists(x, args.a == x)", "/p").perTool, false);
    assert.equal(cel.compile("has(args.x)", "/p").perTool, false);
    assert.equal(cel.compile('[tool].exists(t, t == "a") && has(context.k)', "/p").perTool, false);
  });

  test("give what the CEL engine itself gives, for any tool names in any order, past the memo's bound", () => {
    const source = '!(tool in ["read_file", "write_file"]) && tool.startsWith("w")';
    const memo = cel.compile(source, "/p");
    // The engine alone, with nothing remembered.
    const engine = new Environment({ unlistedVariablesAreDyn: false })
      .registerVariable("tool", "string")
      .registerVariable("args", "map<string, dyn>")
      .registerVariable("context", "map<string, dyn>")
      .parse(source);
    const name = fc.oneof(
      fc.constantFrom("read_file", "write_file", "write", "wx", "fetch", ""),
      fc.string(),
    );
    fc.assert(
      fc.property(fc.array(name, { maxLength: 30 }), (tools) => {
        for (const t of tools)
          assert.equal(
            memo.run(celBindings(t, { any: 1 }, { env: "prod" })),
            engine(celBindings(t, {}, {})),
            t,
          );
      }),
      { numRuns: 100 },
    );
    // More names than the memo keeps: it starts over and stays right.
    for (let i = 0; i < 9000; i++) {
      const t = i % 3 === 0 ? "write_file" : i % 3 === 1 ? `w_${i}` : `tool_${i}`;
      assert.equal(memo.run(celBindings(t, {}, {})), engine(celBindings(t, {}, {})), t);
    }
  });

  test("each program keeps its own answers: two programs, one name, opposite answers", () => {
    const is = cel.compile('tool == "a"', "/p");
    const isNot = cel.compile('tool != "a"', "/p");
    for (let i = 0; i < 3; i++) {
      assert.equal(is.run(celBindings("a", {}, {})), true);
      assert.equal(isNot.run(celBindings("a", {}, {})), false);
      assert.equal(is.run(celBindings("b", {}, {})), false);
      assert.equal(isNot.run(celBindings("b", {}, {})), true);
    }
  });

  test("a program that also reads the arguments or the context is evaluated every time", () => {
    const withArgs = cel.compile('tool == "search" && size(args.q) < 4', "/p");
    assert.equal(withArgs.run(celBindings("search", { q: "abc" }, {})), true);
    assert.equal(withArgs.run(celBindings("search", { q: "abcdef" }, {})), false);
    const withContext = cel.compile('tool == "deploy" && context.env == "prod"', "/p");
    assert.equal(withContext.run(celBindings("deploy", {}, { env: "prod" })), true);
    assert.equal(withContext.run(celBindings("deploy", {}, { env: "dev" })), false);
  });

  test("an evaluation error is not remembered: it is raised every time", () => {
    const p = cel.compile("int(tool) > 3", "/p");
    assert.equal(p.perTool, true);
    assert.equal(p.run(celBindings("5", {}, {})), true);
    assert.equal(p.run(celBindings("5", {}, {})), true);
    assert.throws(() => p.run(celBindings("five", {}, {})));
    assert.throws(() => p.run(celBindings("five", {}, {})));
  });
});
