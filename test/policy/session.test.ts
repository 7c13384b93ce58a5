import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compilePolicy } from "../../src/policy/compile.js";
import { decide } from "../../src/policy/decide.js";
import { PolicySession } from "../../src/policy/session.js";
import { beforeCheck, pack, rule } from "./helpers.js";

const verdict = (d: { effect: string; rule_id: string | null; reason_code: string }) => [
  d.effect,
  d.rule_id,
  d.reason_code,
];

describe("PolicySession", () => {
  test("a session limit: max_calls over every tool", () => {
    const policy = compilePolicy([
      pack("p", [rule("budget", { limit: { max_calls: 3 } })], { defaults: "allow" }),
    ]);
    const s = new PolicySession(policy);
    for (const tool of ["a", "b", "a"]) assert.equal(s.decide({ tool }).effect, "allow");
    assert.deepEqual(verdict(s.decide({ tool: "c" })), ["deny", "budget", "limit_exceeded"]);
    assert.equal(s.callCount, 3);
    // The same call outside the session is fine: nothing is remembered globally.
    assert.equal(decide(policy, { tool: "c" }).effect, "allow");
  });

  test("per-tool limits count only matching tools, globs included", () => {
    const policy = compilePolicy([
      pack("p", [rule("per-tool", { limit: { per_tool: { search: 2, "web_*": 1 } } })], {
        defaults: "allow",
      }),
    ]);
    const s = new PolicySession(policy);
    assert.equal(s.decide({ tool: "search" }).effect, "allow");
    assert.equal(s.decide({ tool: "other" }).effect, "allow");
    assert.equal(s.decide({ tool: "search" }).effect, "allow");
    assert.deepEqual(verdict(s.decide({ tool: "search" })), ["deny", "per-tool", "limit_exceeded"]);
    assert.equal(s.decide({ tool: "web_get" }).effect, "allow");
    assert.deepEqual(verdict(s.decide({ tool: "web_post" })), ["deny", "per-tool", "limit_exceeded"]);
    assert.equal(s.decide({ tool: "other" }).effect, "allow");
  });

  test("denied calls are not counted; warned calls are", () => {
    const policy = compilePolicy([
      pack(
        "p",
        [
          rule("no-exec", { tools: { deny: ["exec"] } }),
          rule("careful", { effect: "warn", tools: { deny: ["rm"] } }),
          rule("budget", { limit: { max_calls: 2 } }),
        ],
        { defaults: "allow" },
      ),
    ]);
    const s = new PolicySession(policy);
    for (let i = 0; i < 5; i++) assert.equal(s.decide({ tool: "exec" }).effect, "deny");
    assert.equal(s.decide({ tool: "not a call", arguments: [] }).effect, "deny");
    assert.equal(s.callCount, 0);
    assert.equal(s.decide({ tool: "rm" }).effect, "warn");
    assert.equal(s.callCount, 1);
    assert.equal(s.decide({ tool: "ls" }).effect, "allow");
    assert.deepEqual(verdict(s.decide({ tool: "ls" })), ["deny", "budget", "limit_exceeded"]);
    assert.equal(s.callCount, 2);
  });

  test("never_after: once the trigger ran, the forbidden tool is denied", () => {
    const policy = compilePolicy([
      pack(
        "p",
        [rule("no-leak", { sequence: { never_after: { trigger: "read_secret", forbidden: "http_*" } } })],
        {
          defaults: "allow",
        },
      ),
    ]);
    const s = new PolicySession(policy);
    assert.equal(s.decide({ tool: "http_post" }).effect, "allow");
    assert.equal(s.decide({ tool: "read_secret" }).effect, "allow");
    assert.deepEqual(verdict(s.decide({ tool: "http_post" })), ["deny", "no-leak", "sequence_violation"]);
    assert.deepEqual(verdict(s.decide({ tool: "http_get" })), ["deny", "no-leak", "sequence_violation"]);
    assert.equal(s.decide({ tool: "read_file" }).effect, "allow");
  });

  test("a denied trigger does not arm never_after", () => {
    const policy = compilePolicy([
      pack(
        "p",
        [
          rule("no-secrets", { tools: { deny: ["read_secret"] } }),
          rule("no-leak", { sequence: { never_after: { trigger: "read_secret", forbidden: "http_post" } } }),
        ],
        { defaults: "allow" },
      ),
    ]);
    const s = new PolicySession(policy);
    assert.equal(s.decide({ tool: "read_secret" }).effect, "deny");
    assert.equal(s.decide({ tool: "http_post" }).effect, "allow");
  });

  test("before: the second tool is denied until the first ran", () => {
    const policy = compilePolicy([
      pack("p", [rule("login-first", { sequence: beforeCheck("login", "query") })], {
        defaults: "allow",
      }),
    ]);
    const s = new PolicySession(policy);
    assert.deepEqual(verdict(s.decide({ tool: "query" })), ["deny", "login-first", "sequence_violation"]);
    assert.equal(s.decide({ tool: "login" }).effect, "allow");
    assert.equal(s.decide({ tool: "query" }).effect, "allow");
    assert.equal(s.decide({ tool: "query" }).effect, "allow");
  });

  test("max_calls (sequence): the call after the maximum is denied", () => {
    const policy = compilePolicy([
      pack("p", [rule("twice", { sequence: { max_calls: { tool: "deploy", max: 2 } } })], {
        defaults: "allow",
      }),
    ]);
    const s = new PolicySession(policy);
    assert.equal(s.decide({ tool: "deploy" }).effect, "allow");
    assert.equal(s.decide({ tool: "build" }).effect, "allow");
    assert.equal(s.decide({ tool: "deploy" }).effect, "allow");
    assert.deepEqual(verdict(s.decide({ tool: "deploy" })), ["deny", "twice", "sequence_violation"]);
    assert.deepEqual(verdict(s.decide({ tool: "deploy" })), ["deny", "twice", "sequence_violation"]);
  });

  test("context.history gives decide() the same view as a session", () => {
    const policy = compilePolicy([
      pack("p", [rule("login-first", { sequence: beforeCheck("login", "query") })], {
        defaults: "allow",
      }),
    ]);
    assert.equal(decide(policy, { tool: "query" }).effect, "deny");
    assert.equal(decide(policy, { tool: "query" }, { history: ["login"] }).effect, "allow");
    assert.equal(decide(policy, { tool: "query" }, { history: [{ tool: "login" }] }).effect, "allow");
    assert.equal(decide(policy, { tool: "query" }, { history: [{ name: "login" }] }).effect, "allow");
    assert.equal(decide(policy, { tool: "query" }, { history: [42, null, { tool: 1 }] }).effect, "deny");
    assert.equal(decide(policy, { tool: "query" }, { history: "login" }).effect, "deny");
  });

  test("sessions are independent of each other", () => {
    const policy = compilePolicy([
      pack("p", [rule("budget", { limit: { max_calls: 1 } })], { defaults: "allow" }),
    ]);
    const a = new PolicySession(policy);
    const b = new PolicySession(policy);
    assert.equal(a.decide({ tool: "x" }).effect, "allow");
    assert.equal(b.decide({ tool: "x" }).effect, "allow");
    assert.equal(a.decide({ tool: "x" }).effect, "deny");
  });
});
