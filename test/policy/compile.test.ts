import assert from "node:assert/strict";
import { describe, test } from "node:test";
import type { AssayError } from "../../src/lib/errors.js";
import { compilePolicy, DEFAULT_CALL_LIMITS } from "../../src/policy/compile.js";
import { parsePack } from "../../src/policy/load-pack.js";
import type { RuleDoc } from "../../src/policy/pack-types.js";
import { assayError, p1, pack, policyFromYaml, position, rule } from "./helpers.js";

const lines = (...ls: string[]) => `${ls.join("\n")}\n`;
const HEAD = [
  "id: demo",
  'version: "1.0.0"',
  "predicates:",
  "  prod: 'has(context.env) && context.env == \"prod\"'",
  "rules:",
  "  - id: r0",
  "    dimension: safety",
  "    severity: high",
  "    tools: { allow: [read_file, search] }",
]; // rules[1] starts on line 10
const RULE1 = ["  - id: r1", "    dimension: security", "    severity: high"];

/** Compile one YAML pack whose rules[1] is RULE1 + `body`; it must fail with `code`. */
function failing(code: Parameters<typeof assayError>[1], ...body: string[]): AssayError {
  const text = lines(...HEAD, ...RULE1, ...body);
  const loaded = parsePack(text, "p.yaml");
  return assayError(() => compilePolicy([loaded]), code);
}

const args = (schema: Record<string, unknown>): Partial<RuleDoc> => ({ args: { tools: ["t"], schema } });
const expr = (assert: string): Partial<RuleDoc> => ({ expr: { tools: ["t"], assert } });
const compileOne = (r: RuleDoc) => compilePolicy([pack("p", [r])]);

describe("compile: problems are errors, never a silent allow", () => {
  test("the example pack compiles into a frozen IR", () => {
    const policy = compilePolicy([p1()]);
    assert.ok(Object.isFrozen(policy));
    assert.ok(Object.isFrozen(policy.rules));
    for (const r of policy.rules) assert.ok(Object.isFrozen(r));
    assert.deepEqual(
      policy.rules.map((r) => [r.id, r.kind]),
      [
        ["read-only-fs", "tools"],
        ["workspace-paths", "args"],
        ["small-queries", "expr"],
        ["no-private-net", "network"],
        ["no-post-after-secret", "sequence"],
        ["call-budget", "limit"],
      ],
    );
    assert.deepEqual(policy.limits, DEFAULT_CALL_LIMITS);
  });

  test("no packs: policy_empty", () => {
    assayError(() => compilePolicy([]), "policy_empty");
  });

  test("duplicate rule id in a pack", () => {
    const text = lines(
      ...HEAD,
      "  - id: r0",
      "    dimension: safety",
      "    severity: low",
      "    tools: { deny: [x] }",
    );
    const err = assayError(() => compilePolicy([parsePack(text, "p.yaml")]), "pack_duplicate_rule");
    assert.equal(err.diagnostics.length, 1);
    assert.ok(err.message.startsWith("rules[1].id: "));
    assert.equal(position(err.where, "p.yaml").line, 10);
  });

  test("the rule id `defaults` is reserved", () => {
    const err = assayError(
      () => compileOne(rule("defaults", { tools: { deny: ["x"] } })),
      "pack_duplicate_rule",
    );
    assert.equal(err.where, "<pack 0>#/rules/0/id");
  });

  test("two packs with the same id", () => {
    const a = pack("same", [rule("r", { tools: { allow: ["x"] } })]);
    assayError(() => compilePolicy([a, a]), "pack_duplicate_rule");
  });

  for (const cidr of [
    "10.0.0.0/33",
    "fd00::/129",
    "not-an-ip",
    "10.0.0.0/",
    "10.0.0.0/-1",
    "10.0.0/8",
    "fd00::/8/8",
  ]) {
    test(`invalid CIDR \`${cidr}\``, () => {
      const err = failing(
        "pack_invalid_cidr",
        "    network:",
        "      deny_cidrs:",
        "        - 10.0.0.0/8",
        `        - "${cidr}"`,
      );
      assert.equal(err.diagnostics.length, 1);
      assert.ok(err.message.startsWith("rules[1].network.deny_cidrs[1]: "));
      assert.equal(position(err.where, "p.yaml").line, 16);
    });
  }

  test("invalid CIDRs in allow_cidrs too; each rule reports its own", () => {
    const err = assayError(
      () =>
        compilePolicy([
          pack("p", [
            rule("n1", { network: { allow_cidrs: ["10.0.0.0/8", "1.2.3.4/40"] } }),
            rule("n2", { network: { deny_cidrs: ["::1/200"] } }),
          ]),
        ]),
      "pack_invalid_cidr",
    );
    assert.deepEqual(
      err.diagnostics.map((d) => d.where),
      ["<pack 0>#/rules/0/network/allow_cidrs/1", "<pack 0>#/rules/1/network/deny_cidrs/0"],
    );
  });

  test("valid CIDRs of both families, with and without a prefix", () => {
    compileOne(
      rule("n", {
        network: { deny_cidrs: ["10.0.0.0/8", "fd00::/8", "1.2.3.4", "::1", "0.0.0.0/0", "::/0"] },
      }),
    );
  });

  test("invalid CEL", () => {
    const err = failing("pack_invalid_cel", "    expr: { tools: [search], assert: 'size(args.q' }");
    assert.ok(err.message.startsWith("rules[1].expr.assert: "));
    assert.equal(position(err.where, "p.yaml").line, 13);
  });

  test("CEL naming an unknown variable", () => {
    const err = assayError(() => compileOne(rule("e", expr("request.size < 10"))), "pack_invalid_cel");
    assert.match(err.message, /`request`/);
    // Comprehension variables are known inside the comprehension only.
    compileOne(rule("e", expr("args.items.all(i, i > 0)")));
    assayError(() => compileOne(rule("e", expr("args.items.all(i, i > 0) && i > 0"))), "pack_invalid_cel");
  });

  test("a CEL assertion must give a bool", () => {
    const err = assayError(() => compileOne(rule("e", expr("size(args.q)"))), "pack_invalid_cel");
    assert.match(err.message, /gives int, but a policy expression must give a bool/);
    compileOne(rule("e", expr("args.flag"))); // dyn: checked when it runs
  });

  test("CEL matches() needs a literal pattern", () => {
    assayError(() => compileOne(rule("e", expr("args.q.matches(args.p)"))), "pack_invalid_cel");
    assayError(() => compileOne(rule("e", expr('matches(args.q, "a" + "b")'))), "pack_invalid_cel");
    compileOne(rule("e", expr('matches(args.q, "^a+$")')));
  });

  test("CEL matches() with lookahead or a backreference: pack_unsafe_regex", () => {
    for (const pattern of ["(?=a)b", "(?!a)b", "(?<=a)b", "(a)\\\\1"]) {
      const err = assayError(
        () => compileOne(rule("e", expr(`args.q.matches("${pattern}")`))),
        "pack_unsafe_regex",
      );
      assert.equal(err.where, "<pack 0>#/rules/0/expr/assert");
    }
    assayError(() => compileOne(rule("e", expr('args.q.matches("(a")'))), "pack_invalid_pattern");
  });

  test("JSON Schema pattern with lookahead or a backreference: pack_unsafe_regex", () => {
    for (const pattern of ["^(?!/etc)", "(?<=a)b", "(a)\\1"]) {
      const err = assayError(
        () => compileOne(rule("a", args({ type: "object", properties: { p: { type: "string", pattern } } }))),
        "pack_unsafe_regex",
      );
      assert.equal(err.where, "<pack 0>#/rules/0/args/schema");
    }
    assayError(
      () => compileOne(rule("a", args({ patternProperties: { "(?=x)": {} } }))),
      "pack_unsafe_regex",
    );
  });

  test("JSON Schema regex problems are located in YAML", () => {
    const err = failing(
      "pack_unsafe_regex",
      "    args:",
      "      tools: [read_file]",
      "      schema:", // 15
      "        properties: { path: { pattern: '^(?!/etc)' } }",
    );
    assert.ok(err.message.startsWith("rules[1].args.schema: "));
    assert.equal(position(err.where, "p.yaml").line, 15);
  });

  test("invalid JSON Schema: unknown keyword, bad type, unknown format", () => {
    for (const schema of [
      { type: "object", propertees: {} },
      { type: "objekt" },
      { type: "string", format: "email" },
    ]) {
      assayError(() => compileOne(rule("a", args(schema))), "pack_invalid_schema");
    }
  });

  test("unknown predicate in `when`, with a did-you-mean hint", () => {
    const err = failing("pack_unknown_predicate", "    when: [prd]", "    tools: { deny: [exec] }");
    assert.ok(err.message.startsWith("rules[1].when[0]: "));
    assert.match(err.message, /did you mean `prod`/);
    assert.equal(position(err.where, "p.yaml").line, 13);
  });

  test("inline CEL in `when` is compiled and checked", () => {
    policyFromYaml(
      lines(...HEAD, ...RULE1, "    when: ['context.env == \"x\"']", "    tools: { deny: [exec] }"),
    );
    failing("pack_invalid_cel", "    when: ['context.env ==']", "    tools: { deny: [exec] }");
    failing("pack_invalid_cel", "    when: ['env == \"x\"']", "    tools: { deny: [exec] }");
  });

  test("an invalid predicate fails the pack even if no rule uses it", () => {
    assayError(
      () =>
        compilePolicy([pack("p", [rule("r", { tools: { allow: ["x"] } })], { predicates: { bad: "1 +" } })]),
      "pack_invalid_cel",
    );
  });

  test("every problem of a pack is listed, each with its own code", () => {
    const err = assayError(
      () =>
        compilePolicy([
          pack("p", [
            rule("a", { network: { deny_cidrs: ["10.0.0.0/33"] } }),
            rule("b", expr("size(")),
            rule("a", { tools: { deny: ["x"] } }),
          ]),
        ]),
      "pack_invalid_cidr",
    );
    assert.deepEqual(
      err.diagnostics.map((d) => d.code),
      ["pack_invalid_cidr", "pack_invalid_cel", "pack_duplicate_rule"],
    );
  });

  test("a schema-invalid document given as an object fails before compiling", () => {
    assayError(
      () => compilePolicy([{ id: "x", version: "1", rules: [{ id: "r" }] } as never]),
      "pack_schema",
    );
  });
});
