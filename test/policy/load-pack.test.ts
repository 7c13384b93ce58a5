import assert from "node:assert/strict";
import { truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, test } from "node:test";
import { compilePolicy } from "../../src/policy/compile.js";
import { loadPack, MAX_PACK_BYTES, packFromObject, parsePack } from "../../src/policy/load-pack.js";
import { suiteTempDir } from "../temp-dir.js";
import { assayError, assayErrorAsync, fixtureText, position } from "./helpers.js";

/** Numbered lines: the test reads which line each problem is on. */
const lines = (...ls: string[]) => `${ls.join("\n")}\n`;

const HEAD = ["id: demo", 'version: "1.0.0"', "rules:"];
const RULE0 = [
  "  - id: r0",
  "    dimension: safety",
  "    severity: high",
  "    tools: { allow: [read_file] }",
];

describe("parsePack: accepted packs", () => {
  test("the example pack parses, with positions", () => {
    const loaded = parsePack(fixtureText("p1.yaml"), "p1.yaml");
    assert.equal(loaded.doc.id, "example");
    assert.equal(loaded.doc.rules.length, 6);
    assert.equal(loaded.locate("/rules/3/network/deny_cidrs/1"), "p1.yaml:27:36");
    assert.equal(loaded.locate("/rules/0/id"), "p1.yaml:7:9");
  });

  test("a JSON pack is accepted (YAML is a superset), tabs included", () => {
    const doc = JSON.parse(JSON.stringify(parsePack(fixtureText("p1.yaml"), "p1.yaml").doc));
    for (const text of [JSON.stringify(doc), JSON.stringify(doc, null, 2), JSON.stringify(doc, null, "\t")]) {
      const loaded = parsePack(text, "p1.json");
      assert.deepEqual(loaded.doc, doc);
      assert.equal(compilePolicy([loaded]).digest, compilePolicy([doc]).digest);
    }
  });

  test("packFromObject checks the schema and locates problems by JSON pointer", () => {
    const err = assayError(
      () => packFromObject({ id: "x", version: "1", rules: [{ id: "r", dimension: "nope" }] }, "obj"),
      "pack_schema",
    );
    assert.ok(err.diagnostics.some((d) => d.where === "obj#/rules/0/dimension"));
    assert.ok(err.diagnostics.some((d) => d.where === "obj#/rules/0"));
  });
});

describe("parsePack: problems carry file:line:col and a path", () => {
  test("malformed YAML: pack_syntax at the broken line", () => {
    const text = lines(...HEAD, "  - id: r0", "    dimension: [safety", "    severity: high");
    const err = assayError(() => parsePack(text, "bad.yaml"), "pack_syntax");
    assert.ok(err.diagnostics.length >= 1);
    for (const d of err.diagnostics) assert.equal(d.code, "pack_syntax");
    const { line } = position(err.where, "bad.yaml");
    assert.ok(line >= 5 && line <= 7, `line ${line}`);
  });

  test("a duplicated key is a syntax error on the second key's line", () => {
    const text = lines("id: a", 'version: "1"', "id: b", "rules: []");
    const err = assayError(() => parsePack(text, "dup.yaml"), "pack_syntax");
    assert.equal(position(err.where, "dup.yaml").line, 3);
  });

  test("several documents in one file are refused", () => {
    assayError(() => parsePack(lines(...HEAD, "  []", "---", "id: b"), "multi.yaml"), "pack_syntax");
  });

  test("an alias bomb is refused", () => {
    const text = lines(
      "a: &a [x, x, x, x, x, x, x, x, x, x]",
      "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]",
      "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]",
      "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]",
      "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]",
    );
    assayError(() => parsePack(text, "bomb.yaml"), "pack_syntax");
  });

  test("an unknown rule key: did-you-mean hint, located on the key's line", () => {
    const text = lines(
      ...HEAD,
      ...RULE0,
      "  - id: r1", // 8
      "    dimension: safety",
      "    severity: high",
      "    tolls:", // 11
      "      allow: [read_file]",
    );
    const err = assayError(() => parsePack(text, "p.yaml"), "pack_schema");
    const unknown = err.diagnostics.find((d) => d.message.startsWith("rules[1].tolls:"));
    assert.ok(unknown, JSON.stringify(err.diagnostics));
    assert.equal(unknown.code, "pack_schema");
    assert.match(unknown.message, /did you mean `tools`/);
    assert.deepEqual(position(unknown.where, "p.yaml"), { line: 11, col: 5 });
    // The rule has no check kind left either; that is reported at the rule.
    const kind = err.diagnostics.find((d) => d.message.startsWith("rules[1]:"));
    assert.ok(kind);
    assert.equal(position(kind.where, "p.yaml").line, 8);
  });

  test("an unknown top-level key gets a hint too", () => {
    const err = assayError(
      () => parsePack(lines("id: a", 'version: "1"', "rule: []"), "t.yaml"),
      "pack_schema",
    );
    const unknown = err.diagnostics.find((d) => d.message.startsWith("rule:"));
    assert.ok(unknown);
    assert.match(unknown.message, /did you mean `rules`/);
    assert.equal(position(unknown.where, "t.yaml").line, 3);
    const missing = err.diagnostics.find((d) => d.message.startsWith("(root):"));
    assert.ok(missing, "missing `rules` is reported");
  });

  test("an unknown key nested in a check", () => {
    const text = lines(
      ...HEAD,
      ...RULE0,
      "  - id: r1",
      "    dimension: safety",
      "    severity: high",
      "    args:", // 11
      "      tools: [read_file]",
      "      schema: { type: object }",
      "      shema: {}", // 14
    );
    const err = assayError(() => parsePack(text, "p.yaml"), "pack_schema");
    assert.equal(err.diagnostics.length, 1);
    const [d] = err.diagnostics;
    assert.ok(d?.message.startsWith("rules[1].args.shema: "));
    assert.match(d?.message ?? "", /did you mean `schema`/);
    assert.equal(position(d?.where, "p.yaml").line, 14);
  });

  test("a missing key is reported at its parent, on the parent's line", () => {
    const text = lines(
      ...HEAD,
      ...RULE0,
      "  - id: r1",
      "    dimension: safety",
      "    severity: high",
      "    args:", // 11
      "      schema: { type: object }",
    );
    const err = assayError(() => parsePack(text, "p.yaml"), "pack_schema");
    const [d] = err.diagnostics;
    assert.equal(err.diagnostics.length, 1);
    assert.ok(d?.message.startsWith("rules[1].args: "));
    assert.match(d?.message ?? "", /`tools`/);
    assert.equal(position(d?.where, "p.yaml").line, 11);
  });

  test("wrong types and enum values: one diagnostic each, at the value", () => {
    const text = lines(
      ...HEAD,
      "  - id: r0",
      "    dimension: safety",
      "    severity: hgh", // 6
      '    cost: "cheap"', // 7
      "    tools: { allow: [read_file] }",
      "  - id: r1",
      "    dimension: control",
      "    severity: low",
      "    limit: { max_calls: -1 }", // 12
    );
    const err = assayError(() => parsePack(text, "p.yaml"), "pack_schema");
    const byPath = new Map(err.diagnostics.map((d) => [d.message.split(":")[0], d]));
    assert.deepEqual([...byPath.keys()].sort(), [
      "rules[0].cost",
      "rules[0].severity",
      "rules[1].limit.max_calls",
    ]);
    assert.deepEqual(position(byPath.get("rules[0].severity")?.where, "p.yaml"), { line: 6, col: 15 });
    assert.equal(position(byPath.get("rules[0].cost")?.where, "p.yaml").line, 7);
    assert.equal(position(byPath.get("rules[1].limit.max_calls")?.where, "p.yaml").line, 12);
    for (const d of err.diagnostics) assert.equal(d.code, "pack_schema");
  });

  test("`rules` that is not a list", () => {
    const err = assayError(
      () => parsePack(lines("id: a", 'version: "1"', "rules: {}"), "p.yaml"),
      "pack_schema",
    );
    assert.ok(err.diagnostics[0]?.message.startsWith("rules: "));
    assert.equal(position(err.where, "p.yaml").line, 3);
  });

  test("a rule with no check kind", () => {
    const text = lines(...HEAD, ...RULE0, "  - id: r1", "    dimension: safety", "    severity: high");
    const err = assayError(() => parsePack(text, "p.yaml"), "pack_schema");
    assert.equal(err.diagnostics.length, 1);
    assert.ok(err.diagnostics[0]?.message.startsWith("rules[1]: "));
    assert.deepEqual(position(err.where, "p.yaml"), { line: 8, col: 5 });
  });

  test("a rule with two check kinds", () => {
    const text = lines(
      ...HEAD,
      ...RULE0,
      "  - id: r1", // 8
      "    dimension: safety",
      "    severity: high",
      "    tools: { deny: [exec] }",
      "    limit: { max_calls: 3 }",
    );
    const err = assayError(() => parsePack(text, "p.yaml"), "pack_schema");
    assert.equal(err.diagnostics.length, 1);
    assert.ok(err.diagnostics[0]?.message.startsWith("rules[1]: "));
    assert.equal(position(err.where, "p.yaml").line, 8);
  });

  test("a network check with nothing to check", () => {
    const text = lines(
      ...HEAD,
      "  - id: r0",
      "    dimension: security",
      "    severity: high",
      "    network: { tools: [http_get] }", // 7
    );
    const err = assayError(() => parsePack(text, "p.yaml"), "pack_schema");
    assert.equal(err.diagnostics.length, 1);
    assert.ok(err.diagnostics[0]?.message.startsWith("rules[0].network: "));
    assert.equal(position(err.where, "p.yaml").line, 7);
  });

  test("every problem is listed, each with its own line", () => {
    const text = lines(
      ...HEAD,
      "  - id: r0",
      "    dimension: sefety", // 5
      "    severity: high",
      "    tools: { allow: [a] }",
      "  - id: r1",
      "    dimension: safety",
      "    severity: hihg", // 10
      "    tools: { deny: [b] }",
    );
    const err = assayError(() => parsePack(text, "p.yaml"), "pack_schema");
    assert.deepEqual(
      err.diagnostics.map((d) => [d.message.split(":")[0], position(d.where, "p.yaml").line]),
      [
        ["rules[0].dimension", 5],
        ["rules[1].severity", 10],
      ],
    );
  });

  test("JSON packs are located too", () => {
    const text = [
      "{",
      '  "id": "a",',
      '  "version": "1",',
      '  "rules": [',
      '    {"id": "r0", "dimension": "safety", "severity": "high", "tools": {"allow": ["x"]}},',
      '    {"id": "r1", "dimension": "safety", "severity": "high",',
      '     "args": {"tools": ["x"], "schema": {}, "shema": 1}}', // 7
      "  ]",
      "}",
    ].join("\n");
    const err = assayError(() => parsePack(text, "p.json"), "pack_schema");
    const [d] = err.diagnostics;
    assert.ok(d?.message.startsWith("rules[1].args.shema: "));
    assert.match(d?.message ?? "", /did you mean `schema`/);
    assert.equal(position(d?.where, "p.json").line, 7);
  });

  test("an empty document is a schema error at 1:1", () => {
    const err = assayError(() => parsePack("", "empty.yaml"), "pack_schema");
    assert.deepEqual(position(err.where, "empty.yaml"), { line: 1, col: 1 });
  });
});

describe("pack size and files", () => {
  const dir = suiteTempDir("assay-load-pack-");

  test("parsePack refuses text over 10 MB", () => {
    assert.equal(MAX_PACK_BYTES, 10 * 1024 * 1024);
    const text = `# ${"x".repeat(MAX_PACK_BYTES)}\nid: a\n`;
    const err = assayError(() => parsePack(text, "big.yaml"), "pack_too_large");
    assert.equal(err.where, "big.yaml");
  });

  test("loadPack refuses a file over 10 MB before reading it", async () => {
    const path = join(dir, "big.yaml");
    await writeFile(path, "");
    await truncate(path, MAX_PACK_BYTES + 1);
    const err = await assayErrorAsync(() => loadPack(path), "pack_too_large");
    assert.equal(err.where, path);
  });

  test("loadPack reads YAML and JSON files and names them in locations", async () => {
    const yamlPath = join(dir, "p1.yaml");
    await writeFile(yamlPath, fixtureText("p1.yaml"));
    const loaded = await loadPack(yamlPath);
    assert.equal(loaded.doc.id, "example");
    assert.equal(loaded.locate("/rules/1/id"), `${yamlPath}:11:9`);

    const jsonPath = join(dir, "p1.json");
    await writeFile(jsonPath, JSON.stringify(loaded.doc, null, 2));
    assert.deepEqual((await loadPack(jsonPath)).doc, loaded.doc);

    const badPath = join(dir, "bad.yaml");
    await writeFile(badPath, lines(...HEAD, "  - id: r0", "    dimension: nope"));
    const err = await assayErrorAsync(() => loadPack(badPath), "pack_schema");
    assert.ok(err.diagnostics.some((d) => d.where === `${badPath}:5:16`));
  });

  test("a missing file is pack_unreadable", async () => {
    await assayErrorAsync(() => loadPack(join(dir, "nope.yaml")), "pack_unreadable");
  });
});
