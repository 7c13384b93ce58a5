// Over ~400 lines on purpose: decide(): every rule kind and reason code, with its property tests, one suite.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { compilePolicy } from "../../src/policy/compile.js";
import { decide } from "../../src/policy/decide.js";
import { type Decision, REASON_CODES, type ReasonCode } from "../../src/policy/decision.js";
import type { CompiledPolicy } from "../../src/policy/ir.js";
import { parsePack } from "../../src/policy/load-pack.js";
import { decideCases } from "./decide-cases.js";
import { fixturePolicy, fixtureText, pack, rule } from "./helpers.js";

/** Every reason code some test below reached; the last test checks it is all of them. */
const reached = new Set<ReasonCode>();
function check(policy: CompiledPolicy, call: unknown, context?: Record<string, unknown>): Decision {
  const d = decide(policy, call, context);
  assertDecisionShape(d, policy);
  reached.add(d.reason_code);
  for (const v of d.violations) reached.add(v.reason_code);
  return d;
}

const DECISION_KEYS = ["effect", "message", "policy_digest", "reason_code", "rule_id", "violations"];
const VIOLATION_KEYS = ["effect", "message", "path", "reason_code", "rule_id", "severity"];

/** The decision's shape, and that `rule_id` names the rule that fired. */
function assertDecisionShape(d: Decision, policy: CompiledPolicy): void {
  assert.deepEqual(Object.keys(d).sort(), DECISION_KEYS);
  assert.ok(["allow", "warn", "deny"].includes(d.effect));
  assert.ok(REASON_CODES.includes(d.reason_code));
  assert.equal(typeof d.message, "string");
  assert.ok(d.message.length > 0);
  assert.equal(d.policy_digest, policy.digest);
  const ruleIds = new Set<string | null>([
    null,
    ...policy.rules.map((r) => r.id),
    ...policy.packs.map((p) => p.defaultsRuleId),
  ]);
  assert.ok(ruleIds.has(d.rule_id), `rule_id \`${d.rule_id}\` is not a rule of the policy`);
  for (const v of d.violations) {
    assert.deepEqual(Object.keys(v).sort(), VIOLATION_KEYS);
    assert.ok(ruleIds.has(v.rule_id));
    assert.ok(v.effect === "deny" || v.effect === "warn");
    assert.ok(v.path === "" || v.path.startsWith("/"));
    assert.ok(REASON_CODES.includes(v.reason_code));
  }
  if (d.effect === "allow") {
    assert.ok(d.reason_code === "allowed" || d.reason_code === "default_allow");
    assert.equal(d.violations.length, 0);
  } else {
    // The deciding violation: the first deny, else the first warn.
    const deciding =
      d.violations.find((v) => v.effect === "deny") ?? d.violations.find((v) => v.effect === "warn");
    assert.ok(deciding);
    assert.equal(deciding.effect, d.effect);
    assert.equal(deciding.rule_id, d.rule_id);
    assert.equal(deciding.reason_code, d.reason_code);
  }
}

describe("decide: details", () => {
  test("a violation carries the rule's effect and severity", () => {
    const d = check(fixturePolicy(["p1.yaml"]), { tool: "exec" });
    assert.deepEqual(d.violations[0], {
      rule_id: "read-only-fs",
      path: "/tool",
      message: d.violations[0]?.message,
      reason_code: "tool_denied",
      effect: "deny",
      severity: "high",
    });
  });

  test("a rule's own message becomes the decision's message", () => {
    const policy = compilePolicy([
      pack("m", [rule("no-exec", { message: "exec is off limits", tools: { deny: ["exec"] } })]),
    ]);
    assert.equal(check(policy, { tool: "exec" }).message, "exec is off limits");
  });

  test("a warn rule warns, and the call is still made", () => {
    const policy = compilePolicy([
      pack("w", [rule("careful", { effect: "warn", tools: { deny: ["rm"] } })], { defaults: "allow" }),
    ]);
    const d = check(policy, { tool: "rm" });
    assert.deepEqual([d.effect, d.rule_id, d.reason_code], ["warn", "careful", "tool_denied"]);
  });

  test("an evaluation error denies even for a warn rule (fail closed)", () => {
    const policy = compilePolicy([
      pack("w", [rule("soft", { effect: "warn", expr: { tools: ["t"], assert: "args.n > 1" } })], {
        defaults: "allow",
      }),
    ]);
    const d = check(policy, { tool: "t", arguments: {} });
    assert.deepEqual([d.effect, d.rule_id, d.reason_code], ["deny", "soft", "evaluation_error"]);
  });

  test("a `when` that is not a bool denies with evaluation_error", () => {
    const policy = compilePolicy([
      pack("w", [rule("odd", { when: ["context.level"], tools: { deny: ["t"] } })], { defaults: "allow" }),
    ]);
    const d = check(policy, { tool: "t" }, { level: 3 });
    assert.deepEqual([d.effect, d.rule_id, d.reason_code], ["deny", "odd", "evaluation_error"]);
    assert.equal(check(policy, { tool: "t" }, { level: false }).effect, "allow");
  });

  test("each rule's conditions hold or not on their own, however many conditions a decision meets", () => {
    // decide() keeps the first condition's result in fields and the others in a Map: both must count.
    const policy = compilePolicy([
      pack(
        "w",
        [
          rule("on-a", { when: ["a"], tools: { deny: ["t"] } }),
          rule("on-b", { when: ["b"], tools: { deny: ["t"] } }),
          rule("on-a-and-b", { when: ["a", "b"], tools: { deny: ["t"] } }),
          rule("on-b-again", { when: ["b"], tools: { deny: ["t"] } }),
          rule("on-c", { when: ["context.c"], tools: { deny: ["t"] } }),
        ],
        { defaults: "allow", predicates: { a: "context.a", b: "context.b" } },
      ),
    ]);
    const denying = (context: Record<string, unknown>) =>
      check(policy, { tool: "t" }, context).violations.map((v) => v.rule_id);
    assert.deepEqual(denying({ a: true, b: false, c: false }), ["on-a"]);
    assert.deepEqual(denying({ a: false, b: true, c: false }), ["on-b", "on-b-again"]);
    assert.deepEqual(denying({ a: true, b: true, c: false }), ["on-a", "on-b", "on-a-and-b", "on-b-again"]);
    assert.deepEqual(denying({ a: false, b: false, c: true }), ["on-c"]);
    assert.deepEqual(denying({ a: false, b: false, c: false }), []);
  });

  test("an assertion that gives a non-bool denies with evaluation_error", () => {
    const policy = compilePolicy([
      pack("w", [rule("x", { expr: { tools: ["t"], assert: "args.n" } })], { defaults: "allow" }),
    ]);
    assert.equal(check(policy, { tool: "t", arguments: { n: 1 } }).reason_code, "evaluation_error");
    assert.equal(check(policy, { tool: "t", arguments: { n: true } }).effect, "allow");
  });

  test("schema violations: one per problem, each at its argument", () => {
    const policy = compilePolicy([
      pack(
        "s",
        [
          rule("shape", {
            args: {
              tools: ["t"],
              schema: {
                type: "object",
                properties: { a: { type: "string" }, b: { type: "integer", maximum: 3 } },
                required: ["c"],
                additionalProperties: false,
              },
            },
          }),
        ],
        { defaults: "allow" },
      ),
    ]);
    const d = check(policy, { tool: "t", arguments: { a: 1, b: 9, z: true } });
    assert.deepEqual(d.violations.map((v) => v.path).sort(), [
      "/arguments/a",
      "/arguments/b",
      "/arguments/c",
      "/arguments/z",
    ]);
    assert.ok(d.violations.every((v) => v.rule_id === "shape" && v.reason_code === "args_invalid"));
  });

  test("bad calls: nested 1,000 deep and a 10 MB string are call_too_large, without a crash", () => {
    const policy = fixturePolicy(["p1.yaml"]);
    let deep: unknown = "bottom";
    for (let i = 0; i < 1000; i++) deep = { a: deep };
    let d = check(policy, { tool: "read_file", arguments: deep });
    assert.deepEqual([d.effect, d.rule_id, d.reason_code], ["deny", null, "call_too_large"]);
    let deepList: unknown = [];
    for (let i = 0; i < 1000; i++) deepList = [deepList];
    d = check(policy, { tool: "read_file", arguments: { path: deepList } });
    assert.equal(d.reason_code, "call_too_large");
    d = check(policy, { tool: "read_file", arguments: { path: "x".repeat(10 * 1024 * 1024) } });
    assert.deepEqual([d.effect, d.rule_id, d.reason_code], ["deny", null, "call_too_large"]);
    assert.equal(d.violations[0]?.path, "/arguments/path");
  });

  test("ReDoS: `^(a+)+$` on a 100 KB adversarial argument is decided correctly and quickly", () => {
    const policy = compilePolicy([
      pack(
        "redos",
        [
          rule("as-only", {
            args: {
              tools: ["t"],
              schema: { type: "object", properties: { s: { type: "string", pattern: "^(a+)+$" } } },
            },
          }),
        ],
        { defaults: "allow" },
      ),
    ]);
    const evil = `${"a".repeat(100_000)}!`;
    decide(policy, { tool: "t", arguments: { s: "aa!" } }); // warm-up
    const start = performance.now();
    const d = check(policy, { tool: "t", arguments: { s: evil } });
    const ms = performance.now() - start;
    assert.deepEqual([d.effect, d.rule_id, d.reason_code], ["deny", "as-only", "args_invalid"]);
    assert.equal(d.violations[0]?.path, "/arguments/s");
    // A generous guard against catastrophic backtracking, not a benchmark (bench/policy.ts measures).
    assert.ok(ms < 1000, `took ${ms} ms`);
    assert.equal(check(policy, { tool: "t", arguments: { s: "a".repeat(100_000) } }).effect, "allow");
  });

  test("CEL matches() runs on RE2, never on a backtracking RegExp (both call forms)", () => {
    const policy = compilePolicy([
      pack(
        "cel-re2",
        [
          rule("method", { expr: { tools: ["t"], assert: '!args.s.matches("^(a+)+$")' } }),
          // `\\z` is end-of-text in RE2 and a literal `z` in JS RegExp: the verdict tells the engines apart.
          rule("global", { expr: { tools: ["u"], assert: 'matches(args.s, "c\\\\z")' } }),
        ],
        { defaults: "allow" },
      ),
    ]);
    const evil = `${"a".repeat(100_000)}!`;
    const start = performance.now();
    let d = check(policy, { tool: "t", arguments: { s: evil } });
    const ms = performance.now() - start;
    assert.deepEqual([d.effect, d.violations], ["allow", []]);
    assert.ok(ms < 1000, `took ${ms} ms`);
    d = check(policy, { tool: "t", arguments: { s: "a".repeat(100_000) } });
    assert.deepEqual([d.effect, d.rule_id, d.reason_code], ["deny", "method", "expr_failed"]);
    assert.equal(check(policy, { tool: "u", arguments: { s: "abc" } }).effect, "allow");
    assert.equal(check(policy, { tool: "u", arguments: { s: "abcz" } }).reason_code, "expr_failed");
  });

  test("a history that cannot be read denies (context_invalid) instead of switching off sequence rules", () => {
    const policy = compilePolicy([
      pack(
        "h",
        [rule("nap", { sequence: { never_after: { trigger: "read_secret", forbidden: "http_post" } } })],
        {
          defaults: "allow",
        },
      ),
    ]);
    const post = { tool: "http_post", arguments: {} };
    const mcp = {
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { name: "read_secret", arguments: {} },
    };
    assert.equal(check(policy, post, { history: [mcp] }).rule_id, "nap");
    assert.equal(check(policy, post, { history: ["read_secret"] }).rule_id, "nap");
    assert.equal(check(policy, post, { history: [] }).effect, "allow");
    for (const history of [{ tools: ["read_secret"] }, [42], [{ method: "ping" }], "read_secret"]) {
      const d = check(policy, post, { history });
      assert.deepEqual(
        [d.effect, d.reason_code, d.rule_id],
        ["deny", "context_invalid", null],
        JSON.stringify(history),
      );
    }
  });

  test("a call naming two different tools is refused: the server would run `name`", () => {
    const policy = compilePolicy([pack("t", [rule("only-fetch", { tools: { allow: ["fetch"] } })])]);
    const plain = check(policy, { tool: "fetch", name: "exec", arguments: {} });
    assert.deepEqual([plain.effect, plain.reason_code], ["deny", "call_invalid"]);
    const rpc = {
      jsonrpc: "2.0",
      id: 1,
      method: "tools/call",
      params: { tool: "fetch", name: "exec", arguments: {} },
    };
    assert.deepEqual(
      [check(policy, rpc).effect, check(policy, rpc).reason_code],
      ["deny", "tool_not_allowed"],
    );
    assert.equal(check(policy, { name: "fetch", arguments: {} }).effect, "allow");
  });

  test("deciding the same call twice gives the same decision", () => {
    const policy = fixturePolicy(["p1.yaml"]);
    const call = { tool: "read_file", arguments: { path: "/etc/passwd" } };
    assert.deepEqual(decide(policy, call), decide(policy, call));
  });

  test("deciding does not change the call", () => {
    const policy = fixturePolicy(["p1.yaml"]);
    const call = { tool: "http_get", arguments: { url: "http://10.0.0.1/", nested: { list: [1, "x"] } } };
    const copy = structuredClone(call);
    check(policy, call, { env: "prod" });
    assert.deepEqual(call, copy);
  });

  test("every reason code is reached by some test above or a shared case", () => {
    // The cases' expectations are checked in test/decide-cases.test.ts; here, their decisions' shape.
    for (const c of decideCases()) check(fixturePolicy(c.packs), c.call, c.context);
    // tool_drift comes from the MCP gate's tool pins, not from the policy (test/gate covers it).
    const fromPolicy = REASON_CODES.filter((c) => c !== "tool_drift");
    assert.deepEqual([...reached].sort(), [...fromPolicy].sort());
  });
});

describe("decide: properties", () => {
  const policy = fixturePolicy(["p1.yaml", "open.yaml"]);
  const known = [
    "read_file",
    "read_secret",
    "search",
    "http_get",
    "http_post",
    "exec",
    "shell",
    "fs_x_write",
    "list_dir",
  ];
  const tool = fc.oneof(fc.constantFrom(...known), fc.string({ maxLength: 12 }));
  const args = fc.oneof(
    fc.dictionary(fc.string({ maxLength: 8 }), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 5 }),
    fc.record(
      {
        path: fc.oneof(fc.constant("/workspace/a"), fc.string()),
        query: fc.oneof(fc.constant("abc"), fc.jsonValue({ maxDepth: 1 })),
        url: fc.oneof(
          fc.webUrl(),
          fc.ipV4().map((ip) => `http://${ip}/`),
          fc.ipV6().map((ip) => `http://[${ip}]/`),
        ),
        host: fc.oneof(fc.ipV4(), fc.ipV6(), fc.domain()),
      },
      { requiredKeys: [] },
    ),
    fc.anything({ maxDepth: 3 }),
  );
  const context = fc.record(
    {
      env: fc.constantFrom("prod", "dev"),
      history: fc.array(fc.oneof(fc.constantFrom(...known), fc.jsonValue({ maxDepth: 1 })), { maxLength: 4 }),
      extra: fc.jsonValue({ maxDepth: 2 }),
    },
    { requiredKeys: [] },
  );
  const call = fc.oneof(
    fc.record({ tool, arguments: args }, { requiredKeys: ["tool"] }),
    fc.record({
      jsonrpc: fc.constant("2.0"),
      id: fc.nat(),
      method: fc.constant("tools/call"),
      params: fc.record({ name: tool, arguments: args }),
    }),
    fc.jsonValue({ maxDepth: 3 }),
    fc.anything({ maxDepth: 3 }),
  );

  test("any call and context: a well-formed decision, never an exception", () => {
    fc.assert(
      fc.property(call, context, (c, ctx) => {
        assertDecisionShape(decide(policy, c, ctx), policy);
      }),
      { numRuns: 3000 },
    );
  });

  test("a call to a denied tool is never allowed, whatever its arguments and context", () => {
    const everythingElseAllowed = compilePolicy([
      parsePack(fixtureText("p1.yaml"), "p1.yaml"),
      pack("allow-all", [rule("all", { tools: { allow: ["*"] } })], { defaults: "allow" }),
    ]);
    const denied = fc.constantFrom("exec", "fs_tmp_write", "fs__write", "fs_a_b_write");
    const shaped = fc.oneof(
      fc.record({ tool: denied, arguments: args }),
      fc.record({ method: fc.constant("tools/call"), params: fc.record({ name: denied, arguments: args }) }),
    );
    fc.assert(
      fc.property(shaped, context, (c, ctx) => {
        const d = decide(everythingElseAllowed, c, ctx);
        assert.equal(d.effect, "deny", JSON.stringify(d));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("decision messages", () => {
  test("an allowed call's message names its own tool, every time", () => {
    const policy = compilePolicy([pack("m", [rule("ok", { tools: { allow: ["*"] } })])]);
    for (const tool of ["read_file", "write_file", "read_file", "write_file", "x`y"]) {
      assert.equal(decide(policy, { tool, arguments: {} }).message, `tool \`${tool}\` is allowed`);
    }
  });

  test("an evaluation error reports what failed, not the rule's advice", () => {
    const policy = compilePolicy([
      pack(
        "m",
        [
          rule("q", {
            message: "queries must be short",
            expr: { tools: ["search"], assert: "size(args.query) < 10" },
          }),
        ],
        {
          defaults: "allow",
        },
      ),
    ]);
    const d = decide(policy, { tool: "search", arguments: {} });
    assert.deepEqual([d.effect, d.rule_id, d.reason_code], ["deny", "q", "evaluation_error"]);
    assert.notEqual(d.message, "queries must be short");
    const ok = decide(policy, { tool: "search", arguments: { query: "a long query here" } });
    assert.equal(ok.message, "queries must be short");
  });

  test("a tool listed only by a rule whose `when` fails is not offered as its own did-you-mean", () => {
    const policy = compilePolicy([
      pack("w", [
        rule("staging-deploy", { when: ["context.stage == 'staging'"], tools: { allow: ["deploy"] } }),
      ]),
    ]);
    const d = decide(policy, { tool: "deploy", arguments: {} }, { stage: "prod" });
    assert.deepEqual([d.effect, d.reason_code], ["deny", "tool_not_allowed"]);
    assert.doesNotMatch(d.message, /did you mean `deploy`/);
    assert.equal(decide(policy, { tool: "deploy", arguments: {} }, { stage: "staging" }).effect, "allow");
  });
});

describe("deny lists match every spelling of a name", () => {
  const policy = compilePolicy([
    pack("s", [rule("no-shell", { tools: { deny: ["bash", "run_command", "*shell*", "delete_*"] } })], {
      defaults: "allow",
    }),
  ]);
  test("case, camelCase, kebab and dotted spellings are denied", () => {
    for (const tool of [
      "Bash",
      "BASH",
      "runCommand",
      "Run-Command",
      "run.command",
      "PowerShell",
      "deleteFile",
      "delete-file",
      "BaSh",
      "bash ",
      "ba\u200dsh",
      "b\u0430sh", // Cyrillic а
      "\uff42\uff41\uff53\uff48", // fullwidth ｂａｓｈ
      "RUN_COMMAND",
      "run_c\u043emmand", // Cyrillic о
    ]) {
      const d = check(policy, { tool, arguments: {} });
      assert.deepEqual([d.effect, d.rule_id, d.reason_code], ["deny", "no-shell", "tool_denied"], tool);
    }
  });
  test("every lookalike letter folds, and the pattern lists every one of them", async () => {
    const { LOOKALIKE, LOOKALIKES, foldToolName } = await import("../../src/policy/tool-pattern.js");
    assert.deepEqual(
      [...LOOKALIKE.source.slice(1, -1)].sort(),
      Object.keys(LOOKALIKES).sort(),
      "the character class is exactly the table's keys",
    );
    for (const [c, latin] of Object.entries(LOOKALIKES)) assert.equal(foldToolName(`x${c}`), `x${latin}`);
    assert.equal(foldToolName("Fs-*.Write"), "fs_*_write", "patterns fold the same way, `*` kept");
  });
  test("names that only look alike are not", () => {
    for (const tool of ["bashful", "run_commands", "read_file"])
      assert.equal(check(policy, { tool, arguments: {} }).effect, "allow", tool);
  });
});

describe("CEL over converted arguments", () => {
  test("lists, nested maps, macros, `in` and has() see the call's JSON as written", () => {
    const exprs = [
      "args.items.exists(i, i.n > 3)",
      'args.recipients.all(r, r.endsWith("@x.com"))',
      "size(args.headers) <= 2",
      '"a" in args.tags',
      'args.m["k"] == 1.0',
      "has(args.m.k) && !has(args.m.z)",
      "args.items[1].n == 5.0",
      'args.nested.deep[0].x == "y"',
    ];
    const rules = exprs.map((assert, i) => rule(`e${i}`, { expr: { tools: ["t"], assert } }));
    const policy = compilePolicy([pack("c", rules, { defaults: "allow" })]);
    const args = {
      items: [{ n: 1 }, { n: 5 }],
      recipients: ["a@x.com", "b@x.com"],
      headers: { A: "1", B: "2" },
      tags: ["a", "b"],
      m: { k: 1 },
      nested: { deep: [{ x: "y" }] },
    };
    assert.deepEqual(check(policy, { tool: "t", arguments: args }).violations, []);
    const bad = { ...args, items: [{ n: 1 }], tags: ["b"], nested: { deep: [{ x: "z" }] } };
    assert.deepEqual(
      check(policy, { tool: "t", arguments: bad }).violations.map((v) => v.rule_id),
      ["e0", "e3", "e6", "e7"],
    );
  });
});
