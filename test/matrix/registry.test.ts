import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AssayError } from "../../src/lib/errors.js";
import { parseRegistry } from "../../src/matrix/registry.js";

const SHA = `sha256:${"0".repeat(64)}`;

function problems(text: string): string[] {
  try {
    parseRegistry(text, "claims.yaml", SHA);
  } catch (err) {
    assert.ok(err instanceof AssayError);
    assert.equal(err.code, "matrix_registry_invalid");
    return (err.diagnostics ?? [err]).map((d) => `${d.where}: ${d.message}`);
  }
  assert.fail("the registry was accepted");
}

const ONE = (claim: string) => `version: 1\ngroups:\n  - id: gate\n    title: Gate\n    claims:\n${claim}`;

describe("claim registry", () => {
  test("a valid registry compiles every criterion and keeps the order", () => {
    const r = parseRegistry(
      `version: 1\ntitle: T\ngroups:\n  - id: a\n    title: A\n    claims:\n      - { id: A-ONE-01, claim: one, required_for: ga }\n      - id: A-TWO-01\n        claim: two\n        required_for: design_partner\n        evidence: [{ kind: junit, file: t.xml, criterion: "failures == 0" }]\n`,
      "claims.yaml",
      SHA,
    );
    assert.equal(r.title, "T");
    assert.deepEqual(
      r.groups[0]?.claims.map((c) => [c.id, c.pending, c.evidence.length]),
      [
        ["A-ONE-01", "DEFER", 0],
        ["A-TWO-01", "DEFER", 1],
      ],
    );
  });

  test("schema faults name file:line:col and the field", () => {
    const p = problems(ONE(`      - id: GATE-SEC-01\n        claim: c\n        required_for: someday\n`));
    assert.ok(
      p.some((l) => /^claims\.yaml:8:\d+: .*required_for/.test(l)),
      p.join("\n"),
    );
  });

  test("an unknown artifact kind is an error, not skipped", () => {
    const p = problems(
      ONE(
        `      - id: GATE-SEC-01\n        claim: c\n        required_for: ga\n        evidence:\n          - { kind: screenshot, file: a.png, criterion: "true" }\n`,
      ),
    );
    assert.ok(
      p.some((l) => /claims\.yaml:10:\d+: .*kind/.test(l)),
      p.join("\n"),
    );
  });

  test("invalid CEL is reported at the criterion", () => {
    const p = problems(
      ONE(
        `      - id: GATE-SEC-01\n        claim: c\n        required_for: ga\n        evidence:\n          - kind: junit\n            file: t.xml\n            criterion: "failures =="\n`,
      ),
    );
    assert.ok(
      p.some((l) => /^claims\.yaml:12:\d+: invalid CEL `failures ==`/.test(l)),
      p.join("\n"),
    );
  });

  test("duplicate claim ids, and a signal naming a file the claim does not use", () => {
    const p = problems(
      `version: 1\ngroups:\n  - id: g\n    title: G\n    claims:\n      - { id: G-ONE-01, claim: a, required_for: ga }\n      - id: G-ONE-01\n        claim: b\n        required_for: ga\n        evidence: [{ kind: junit, file: t.xml, criterion: "true" }]\n        state_override_signal: { file: other.json, expression: verdict, states: { ready: VALIDATED } }\n`,
    );
    assert.ok(
      p.some((l) => /^claims\.yaml:7:\d+: claim id `G-ONE-01` is used twice/.test(l)),
      p.join("\n"),
    );
    assert.ok(
      p.some((l) => /^claims\.yaml:11:\d+: `other\.json` is not one of the claim's evidence files/.test(l)),
      p.join("\n"),
    );
  });

  test("evidence paths stay inside the evidence directories", () => {
    for (const file of ["../t.xml", "/etc/passwd", "a/../../t.xml"]) {
      const p = problems(
        ONE(
          `      - { id: G-TWO-01, claim: c, required_for: ga, evidence: [{ kind: junit, file: "${file}", criterion: "true" }] }\n`,
        ),
      );
      assert.ok(
        p.some((l) => /^claims\.yaml:6:\d+: .*file/.test(l)),
        p.join("\n"),
      );
    }
  });

  test("YAML syntax errors and duplicate keys have positions", () => {
    assert.ok(problems("version: 1\ngroups: [\n").some((l) => /^claims\.yaml:\d+:\d+: /.test(l)));
    assert.ok(problems("version: 1\nversion: 1\ngroups: []\n").some((l) => /^claims\.yaml:2:1: /.test(l)));
  });
});
