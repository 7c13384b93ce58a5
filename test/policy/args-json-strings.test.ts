import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { compilePolicy } from "../../src/policy/compile.js";
import { decide } from "../../src/policy/decide.js";
import type { Decision } from "../../src/policy/decision.js";
import { parsePack } from "../../src/policy/load-pack.js";
import type { ArgsCheck } from "../../src/policy/pack-types.js";
import { reparsedArguments } from "../../src/policy/reparse-args.js";
import { assayError, pack, position, rule } from "./helpers.js";

const WORKSPACE_PATH = { type: "string", pattern: "^/workspace(/.*)?$" };
// `items` without `type: array`: a schema that judges a JSON-encoded string as a string.
const PATHS_SCHEMA = {
  type: "object",
  properties: { path: WORKSPACE_PATH, paths: { items: WORKSPACE_PATH } },
};
const SECRETS_SCHEMA = {
  $ref: "#/$defs/clean",
  $defs: {
    secret: { type: "string", pattern: "AKIA[0-9A-Z]{16}" },
    clean: {
      not: { $ref: "#/$defs/secret" },
      propertyNames: { not: { $ref: "#/$defs/secret" } },
      items: { $ref: "#/$defs/clean" },
      additionalProperties: { $ref: "#/$defs/clean" },
    },
  },
};

function argsPolicy(schema: ArgsCheck["schema"], json_strings?: ArgsCheck["json_strings"]) {
  const args: ArgsCheck = { tools: ["*"], schema, ...(json_strings ? { json_strings } : {}) };
  const policy = compilePolicy([pack("a", [rule("args", { args })], { defaults: "allow" })]);
  return (a: Record<string, unknown>): Decision => decide(policy, { tool: "read_files", arguments: a });
}
const violations = (d: Decision) => d.violations.map((v) => [v.path, v.message]);

describe("args: json_strings judges the arguments a re-parsing server hands to the tool", () => {
  test("as sent (the default), a JSON-encoded list passes a schema that only judges lists", () => {
    const check = argsPolicy(PATHS_SCHEMA);
    assert.equal(check({ paths: '["/etc/passwd"]' }).effect, "allow");
  });

  test("reparsed: the string is judged as the list FastMCP hands the tool, at the string's pointer", () => {
    const check = argsPolicy(PATHS_SCHEMA, "reparsed");
    const d = check({ paths: '["/workspace/a", "/etc/passwd"]' });
    assert.equal(d.effect, "deny");
    assert.equal(d.reason_code, "args_invalid");
    assert.deepEqual(violations(d), [
      [
        "/arguments/paths",
        '`/arguments/paths/1` must match pattern "^/workspace(/.*)?$" (as a server that re-parses JSON in strings reads `/arguments/paths`)',
      ],
    ]);
    assert.equal(check({ paths: '["/workspace/a"]', path: "/workspace/b" }).effect, "allow");
    // The sent string itself is not judged: a server that re-parses never hands it on.
    assert.equal(
      argsPolicy({ properties: { paths: { type: "array" } } }, "reparsed")({ paths: "[]" }).effect,
      "allow",
    );
  });

  test("reparsed: JSON escapes cannot hide a value from the schema", () => {
    const check = argsPolicy(SECRETS_SCHEMA, "reparsed");
    assert.equal(argsPolicy(SECRETS_SCHEMA)({ data: '{"k": "\\u0041KIAIOSFODNN7EXAMPLE"}' }).effect, "allow");
    assert.equal(check({ data: '{"k": "\\u0041KIAIOSFODNN7EXAMPLE"}' }).effect, "deny");
    assert.equal(check({ data: '{"\\u0041KIAIOSFODNN7EXAMPLE": 1}' }).effect, "deny");
    assert.equal(check({ data: '["AKIAIOSFODNN7EXAMPLE", NaN]' }).effect, "deny");
    assert.equal(check({ data: "AKIAIOSFODNN7EXAMPLE" }).effect, "deny");
  });

  test("both: the arguments are judged as sent and as re-parsed", () => {
    const check = argsPolicy({ properties: { paths: { type: "array", items: WORKSPACE_PATH } } }, "both");
    const d = check({ paths: '["/etc/passwd"]' });
    assert.deepEqual(
      violations(d).map(([p]) => p),
      ["/arguments/paths", "/arguments/paths"],
    );
    assert.match(violations(d)[0]?.[1] ?? "", /must be array$/);
    assert.match(violations(d)[1]?.[1] ?? "", /as a server that re-parses JSON in strings reads/);
    assert.equal(check({ paths: ["/workspace/a"] }).effect, "allow");
  });

  test("what FastMCP re-parses: top-level strings that json.loads makes an object, array or null", () => {
    const r = reparsedArguments(
      {
        a: ' {"x": 1} ',
        b: "[1, 2]",
        c: "null",
        d: "true",
        e: "12",
        f: '"quoted"',
        g: "[not json",
        h: { nested: "[1]" },
        i: ["[1]"],
      },
      64,
    );
    assert.ok(r);
    assert.deepEqual(r.args, {
      a: { x: 1 },
      b: [1, 2],
      c: null,
      d: "true",
      e: "12",
      f: '"quoted"',
      g: "[not json",
      h: { nested: "[1]" },
      i: ["[1]"],
    });
    assert.deepEqual([...r.changed].sort(), ["a", "b", "c"]);
    assert.equal(reparsedArguments({ a: "plain", b: 1 }, 64), null);
    const proto = reparsedArguments(JSON.parse('{"__proto__": "{\\"polluted\\": true}"}'), 64);
    assert.deepEqual(Object.keys(proto?.args ?? {}), ["__proto__"]);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test("a re-parsed value nested deeper than 64 levels is refused", () => {
    const check = argsPolicy(true, "reparsed");
    const d = check({ deep: `${"[".repeat(65)}${"]".repeat(65)}` });
    assert.equal(d.effect, "deny");
    assert.deepEqual(
      violations(d).map(([p]) => p),
      ["/arguments/deep"],
    );
  });
});

describe("args: json_strings in packs", () => {
  const text = (value: string) =>
    [
      "id: p",
      'version: "1"',
      "rules:",
      "  - id: r",
      "    dimension: security",
      "    severity: high",
      "    args:",
      "      tools: [x]",
      "      schema: true",
      `      json_strings: ${value}`, // 10
      "",
    ].join("\n");

  test("as_sent, reparsed and both are accepted; as_sent is the default and hashes like it", () => {
    for (const v of ["as_sent", "reparsed", "both"]) parsePack(text(v), "p.yaml");
    const explicit = compilePolicy([parsePack(text("as_sent"), "p.yaml")]);
    const implicit = compilePolicy([
      parsePack(text("as_sent").replace("      json_strings: as_sent\n", ""), "p.yaml"),
    ]);
    assert.equal(explicit.digest, implicit.digest);
    assert.notEqual(compilePolicy([parsePack(text("reparsed"), "p.yaml")]).digest, implicit.digest);
  });

  test("any other value is a schema error at the value", () => {
    for (const v of ["parse", "true", "1", "[reparsed]", "Reparsed"]) {
      const err = assayError(() => parsePack(text(v), "p.yaml"), "pack_schema");
      const d = err.diagnostics.find((x) => x.message.startsWith("rules[0].args.json_strings"));
      assert.ok(d, JSON.stringify(err.diagnostics));
      assert.equal(position(d.where, "p.yaml").line, 10);
    }
  });
});
