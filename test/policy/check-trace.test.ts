import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { checkTrace } from "../../src/policy/check-trace.js";
import { compilePolicy } from "../../src/policy/compile.js";
import type { TraceViolation } from "../../src/policy/decision.js";
import type { SequenceCheck } from "../../src/policy/pack-types.js";
import { afterCheck, beforeCheck, pack, rule } from "./helpers.js";

/** A policy with one sequence rule `seq` (defaults allow). */
const seqPolicy = (sequence: SequenceCheck, extra: Parameters<typeof rule>[1] = {}) =>
  compilePolicy([pack("p", [rule("seq", { sequence, ...extra })], { defaults: "allow" })]);

const calls = (...tools: string[]) => tools.map((tool) => ({ tool, arguments: {} }));
const summary = (vs: TraceViolation[]) => vs.map((v) => [v.rule_id, v.call_index, v.reason_code, v.path]);

describe("checkTrace", () => {
  test("require: a trace with no call to the tool", () => {
    const policy = seqPolicy({ require: { tool: "run_tests" } });
    assert.deepEqual(summary(checkTrace(policy, calls("edit", "commit"))), [
      ["seq", null, "sequence_violation", ""],
    ]);
    assert.deepEqual(checkTrace(policy, calls("edit", "run_tests", "commit")), []);
    assert.deepEqual(summary(checkTrace(policy, [])), [["seq", null, "sequence_violation", ""]]);
  });

  test("before: the call made too early, with its index", () => {
    const policy = seqPolicy(beforeCheck("login", "query"));
    assert.deepEqual(summary(checkTrace(policy, calls("query", "login", "query"))), [
      ["seq", 0, "sequence_violation", "/calls/0/tool"],
    ]);
    assert.deepEqual(checkTrace(policy, calls("login", "query")), []);
  });

  test("never_after: every forbidden call after the trigger", () => {
    const policy = seqPolicy({ never_after: { trigger: "read_secret", forbidden: "http_post" } });
    assert.deepEqual(
      summary(checkTrace(policy, calls("http_post", "read_secret", "ls", "http_post", "http_post"))),
      [
        ["seq", 3, "sequence_violation", "/calls/3/tool"],
        ["seq", 4, "sequence_violation", "/calls/4/tool"],
      ],
    );
  });

  test("max_calls: every call past the maximum (a trace counts every call, even denied ones)", () => {
    const policy = seqPolicy({ max_calls: { tool: "deploy", max: 1 } });
    assert.deepEqual(summary(checkTrace(policy, calls("deploy", "x", "deploy", "deploy"))), [
      ["seq", 2, "sequence_violation", "/calls/2/tool"],
      ["seq", 3, "sequence_violation", "/calls/3/tool"],
    ]);
  });

  test("eventually, with and without `within`", () => {
    const anytime = seqPolicy({ eventually: { tool: "cleanup" } });
    assert.deepEqual(checkTrace(anytime, calls("a", "b", "c", "cleanup")), []);
    assert.deepEqual(summary(checkTrace(anytime, calls("a", "b"))), [
      ["seq", null, "sequence_violation", ""],
    ]);

    const soon = seqPolicy({ eventually: { tool: "plan", within: 2 } });
    assert.deepEqual(checkTrace(soon, calls("a", "plan", "b")), []);
    assert.deepEqual(summary(checkTrace(soon, calls("a", "b", "plan"))), [
      ["seq", null, "sequence_violation", ""],
    ]);
  });

  test("after: each trigger needs the follow-up within N calls, reported at the trigger", () => {
    const policy = seqPolicy(afterCheck("write_*", "save", 2));
    assert.deepEqual(checkTrace(policy, calls("write_a", "x", "save")), []);
    assert.deepEqual(summary(checkTrace(policy, calls("write_a", "x", "y", "save", "write_b"))), [
      ["seq", 0, "sequence_violation", "/calls/0"],
      ["seq", 4, "sequence_violation", "/calls/4"],
    ]);
  });

  test("every call is decided: call-level violations come with their index", () => {
    const policy = compilePolicy([
      pack(
        "p",
        [rule("no-exec", { tools: { deny: ["exec"] } }), rule("budget", { limit: { max_calls: 2 } })],
        {
          defaults: "allow",
        },
      ),
    ]);
    const vs = checkTrace(policy, [{ tool: "ls" }, { tool: "exec" }, "not a call", { tool: "ls" }]);
    assert.deepEqual(summary(vs), [
      ["no-exec", 1, "tool_denied", "/calls/1/tool"],
      [null, 2, "call_invalid", "/calls/2"],
      ["budget", 3, "limit_exceeded", "/calls/3/tool"],
    ]);
  });

  test("trace context and per-call context reach `when`, for call rules and trace rules", () => {
    const policy = seqPolicy(
      { require: { tool: "approve" } },
      { when: ['has(context.env) && context.env == "prod"'] },
    );
    assert.deepEqual(checkTrace(policy, calls("deploy")), []);
    assert.equal(checkTrace(policy, { calls: calls("deploy"), context: { env: "prod" } }).length, 1);

    const online = compilePolicy([
      pack(
        "p",
        [
          rule("prod-no-rm", {
            when: ['has(context.env) && context.env == "prod"'],
            tools: { deny: ["rm"] },
          }),
        ],
        {
          defaults: "allow",
        },
      ),
    ]);
    const trace = { calls: [{ tool: "rm" }, { tool: "rm", context: { env: "prod" } }] };
    assert.deepEqual(summary(checkTrace(online, trace)), [["prod-no-rm", 1, "tool_denied", "/calls/1/tool"]]);
  });

  test("a trace rule whose `when` cannot be evaluated reports an evaluation error", () => {
    const policy = seqPolicy({ require: { tool: "approve" } }, { when: ["context.missing.field"] });
    const vs = checkTrace(policy, calls("x"));
    assert.deepEqual(summary(vs), [["seq", null, "evaluation_error", ""]]);
    assert.equal(vs[0]?.effect, "deny");
  });
});
