import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { compilePolicy } from "../../src/policy/compile.js";
import { decide } from "../../src/policy/decide.js";
import { parsePack } from "../../src/policy/load-pack.js";
import type { RuleDoc } from "../../src/policy/pack-types.js";
import { fixtureText, p1, pack, rule } from "./helpers.js";

const expr = (assert: string): Partial<RuleDoc> => ({ expr: { tools: ["t"], assert } });

describe("compile: composing packs", () => {
  const a = pack("a", [
    rule("shared", { tools: { allow: ["read_*"] } }),
    rule("only-a", { tools: { deny: ["exec"] } }),
  ]);
  const b = pack("b", [rule("shared", { tools: { deny: ["read_secret"] } })], { defaults: "allow" });

  test("rule ids are namespaced `pack/rule` only where they collide", () => {
    const policy = compilePolicy([a, b]);
    assert.deepEqual(
      policy.rules.map((r) => r.id),
      ["a/shared", "only-a", "b/shared"],
    );
    assert.deepEqual(
      policy.rules.map((r) => r.qualifiedId),
      ["a/shared", "a/only-a", "b/shared"],
    );
    assert.deepEqual(
      compilePolicy([a]).rules.map((r) => r.id),
      ["shared", "only-a"],
    );
  });

  test("decisions name the namespaced id", () => {
    const policy = compilePolicy([a, b]);
    const d = decide(policy, { tool: "read_secret", arguments: {} });
    assert.equal(d.effect, "deny");
    assert.equal(d.rule_id, "b/shared");
    assert.equal(d.reason_code, "tool_denied");
    const e = decide(policy, { tool: "exec", arguments: {} });
    assert.equal(e.rule_id, "only-a");
    const ok = decide(policy, { tool: "read_file", arguments: {} });
    assert.equal(ok.effect, "allow");
    assert.equal(ok.rule_id, "a/shared");
  });

  test("the `defaults` pseudo-rule: `defaults` alone, `pack/defaults` when composed", () => {
    const single = decide(compilePolicy([a]), { tool: "write_file", arguments: {} });
    assert.equal(single.rule_id, "defaults");
    assert.equal(single.reason_code, "tool_not_allowed");
    const both = decide(compilePolicy([a, b]), { tool: "write_file", arguments: {} });
    assert.equal(both.rule_id, "a/defaults");
    assert.equal(both.violations.length, 1);
  });

  test("per-pack defaults: each pack judges the tools it does not mention", () => {
    const allowsX = pack("allows-x", [rule("x", { tools: { allow: ["x"] } })]);
    const silentDeny = pack("silent-deny", [rule("y", { tools: { allow: ["y"] } })]);
    const silentWarn = pack("silent-warn", [rule("z", { tools: { allow: ["z"] } })], { defaults: "warn" });
    const silentAllow = pack("silent-allow", [rule("z", { tools: { allow: ["z"] } })], { defaults: "allow" });

    const deny = decide(compilePolicy([allowsX, silentDeny]), { tool: "x" });
    assert.deepEqual(
      [deny.effect, deny.rule_id, deny.reason_code],
      ["deny", "silent-deny/defaults", "tool_not_allowed"],
    );

    const warn = decide(compilePolicy([allowsX, silentWarn]), { tool: "x" });
    assert.deepEqual(
      [warn.effect, warn.rule_id, warn.reason_code],
      ["warn", "silent-warn/defaults", "default_warn"],
    );

    const allow = decide(compilePolicy([allowsX, silentAllow]), { tool: "x" });
    assert.deepEqual([allow.effect, allow.rule_id, allow.reason_code], ["allow", "x", "allowed"]);

    const defaultAllow = decide(compilePolicy([silentAllow]), { tool: "other" });
    assert.deepEqual(
      [defaultAllow.effect, defaultAllow.rule_id, defaultAllow.reason_code],
      ["allow", "defaults", "default_allow"],
    );
  });

  test("per-pack defaults hold for every pack, past the first 31", () => {
    // decide() tracks which packs list the tool in bits up to 31 packs and in bytes beyond.
    for (const count of [31, 32, 40]) {
      const listsX = (i: number) => pack(`p${i}`, [rule(`x${i}`, { tools: { allow: ["x"] } })]);
      const all = Array.from({ length: count }, (_, i) => listsX(i));
      const allowed = decide(compilePolicy(all), { tool: "x" });
      assert.deepEqual([allowed.effect, allowed.rule_id, allowed.violations.length], ["allow", "x0", 0]);
      for (const silent of [0, 30, count - 1]) {
        const packs = all.map((p, i) =>
          i === silent ? pack(`p${i}`, [rule(`y${i}`, { tools: { allow: ["y"] } })]) : p,
        );
        const d = decide(compilePolicy(packs), { tool: "x" });
        assert.deepEqual(
          [d.effect, d.rule_id, d.violations.map((v) => v.rule_id)],
          ["deny", `p${silent}/defaults`, [`p${silent}/defaults`]],
          `${count} packs, pack ${silent} silent`,
        );
      }
    }
  });

  test("deny beats warn beats allow, whatever the pack order", () => {
    const allow = pack("allow", [rule("allow-t", { tools: { allow: ["t"] } })]);
    const warn = pack("warn", [rule("warn-t", { effect: "warn", tools: { deny: ["t"] } })], {
      defaults: "allow",
    });
    const deny = pack("deny", [rule("deny-t", { tools: { deny: ["t"] } })], { defaults: "allow" });
    const orders = [
      [allow, warn, deny],
      [deny, warn, allow],
      [warn, allow, deny],
      [warn, deny, allow],
    ];
    for (const packs of orders) {
      const d = decide(compilePolicy(packs), { tool: "t" });
      assert.deepEqual([d.effect, d.rule_id], ["deny", "deny-t"]);
      assert.equal(d.violations.length, 2);
    }
    for (const packs of [
      [allow, warn],
      [warn, allow],
    ]) {
      const d = decide(compilePolicy(packs), { tool: "t" });
      assert.deepEqual([d.effect, d.rule_id, d.reason_code], ["warn", "warn-t", "tool_denied"]);
    }
    const d = decide(compilePolicy([allow]), { tool: "t" });
    assert.deepEqual([d.effect, d.rule_id], ["allow", "allow-t"]);
  });
});

describe("compile: policy digest", () => {
  const bare = pack("d", [rule("r", { tools: { allow: ["a"] } }), rule("q", expr("true"))]);
  const spelled = pack(
    "d",
    [
      rule("r", { tools: { allow: ["a"] }, effect: "deny", cost: 1, when: [], mappings: [] }),
      rule("q", { ...expr("true"), effect: "deny", cost: 1, when: [], mappings: [] }),
    ],
    { defaults: "deny", predicates: {} },
  );

  test("`sha256:` and 64 hex digits", () => {
    assert.match(compilePolicy([p1()]).digest, /^sha256:[0-9a-f]{64}$/);
  });

  test("stable: the same across compiles, key orders, YAML vs JSON, and processes", () => {
    const text = fixtureText("p1.yaml");
    const digest = compilePolicy([parsePack(text, "a.yaml")]).digest;
    assert.equal(compilePolicy([parsePack(text, "b.yaml")]).digest, digest);
    const doc = parsePack(text, "p1.yaml").doc;
    assert.equal(compilePolicy([JSON.parse(JSON.stringify(doc))]).digest, digest);
    const reordered = Object.fromEntries(Object.entries(doc).reverse());
    assert.equal(compilePolicy([reordered as never]).digest, digest);
    // Another process computes the same digest (no dependence on process state).
    const script = `import { compilePolicy, parsePack } from "./src/index.ts";
      import { readFileSync } from "node:fs";
      console.log(compilePolicy([parsePack(readFileSync("test/fixtures/policy/p1.yaml", "utf8"), "x")]).digest);`;
    const child = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: new URL("../..", import.meta.url),
      encoding: "utf8",
    });
    assert.equal(child.stdout.trim(), digest, child.stderr);
  });

  test("equal for packs that differ only in written-out defaults", () => {
    assert.equal(compilePolicy([bare]).digest, compilePolicy([spelled]).digest);
  });

  test("different when a rule changes", () => {
    const base = compilePolicy([bare]).digest;
    const changed = [
      pack("d", [rule("r", { tools: { allow: ["b"] } }), rule("q", expr("true"))]),
      pack("d", [rule("r", { tools: { allow: ["a"] }, cost: 2 }), rule("q", expr("true"))]),
      pack("d", [rule("r", { tools: { allow: ["a"] }, effect: "warn" }), rule("q", expr("true"))]),
      pack("d", [rule("r", { tools: { allow: ["a"] }, severity: "low" }), rule("q", expr("true"))]),
      pack("d", [rule("q", expr("true")), rule("r", { tools: { allow: ["a"] } })]),
      pack("d", [rule("r", { tools: { allow: ["a"] } }), rule("q", expr("false"))]),
      pack("d", [rule("r", { tools: { allow: ["a"] } }), rule("q", expr("true"))], { defaults: "allow" }),
    ];
    const digests = new Set([base, ...changed.map((p) => compilePolicy([p]).digest)]);
    assert.equal(digests.size, changed.length + 1);
  });

  test("the order of packs is part of the policy", () => {
    const other = pack("e", [rule("s", { tools: { allow: ["a"] } })]);
    assert.notEqual(compilePolicy([bare, other]).digest, compilePolicy([other, bare]).digest);
  });

  test("every decision carries the digest", () => {
    const policy = compilePolicy([bare]);
    assert.equal(decide(policy, { tool: "a" }).policy_digest, policy.digest);
    assert.equal(decide(policy, 42).policy_digest, policy.digest);
  });
});
