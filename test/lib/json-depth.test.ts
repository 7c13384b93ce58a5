import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import fc from "fast-check";
import { readJsonInput } from "../../src/cli/json-input.js";
import { MAX_JSON_DEPTH, nestsDeeperThan } from "../../src/lib/json-depth.js";
import { parseSoakReport } from "../../src/sim/soak/report.js";
import { parseTrace } from "../../src/sim/target/recorded-trace.js";
import { suiteTempDir } from "../temp-dir.js";

const dir = suiteTempDir("assay-json-depth-");

/** The nesting of a parsed value, the slow way. */
function depthOf(v: unknown): number {
  if (v === null || typeof v !== "object") return 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  return 1 + children.reduce((m: number, c) => Math.max(m, depthOf(c)), 0);
}

const nested = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;

describe("JSON nesting depth", () => {
  test("agrees with the parsed value's depth, brackets and escaped quotes inside strings included", () => {
    const tricky = fc.constantFrom('"[', '\\"{', "]]", '\\\\"', "{[", "\\");
    const value = fc.letrec((tie) => ({
      node: fc.oneof(
        { depthSize: "small" },
        fc.oneof(
          fc.string(),
          fc.stringMatching(/^[[\]{}"\\ ]{0,6}$/),
          tricky,
          fc.integer(),
          fc.constant(null),
        ),
        fc.array(tie("node"), { maxLength: 3 }),
        fc.dictionary(fc.oneof(fc.string(), tricky), tie("node"), { maxKeys: 3 }),
      ),
    })).node;
    fc.assert(
      fc.property(value, fc.integer({ min: 0, max: 8 }), (v, max) => {
        const text = JSON.stringify(v, null, max % 2 === 0 ? 0 : 1);
        assert.equal(nestsDeeperThan(text, max), depthOf(v) > max, text);
      }),
      { numRuns: 3000 },
    );
  });

  test("a call, context or predicate nested past the limit is one error naming the file, not a stack overflow", async () => {
    const deep = join(dir, "deep.json");
    writeFileSync(deep, nested(10_000));
    await assert.rejects(readJsonInput(deep, "context"), {
      code: "input_invalid",
      message: `context nests deeper than ${MAX_JSON_DEPTH} levels`,
      where: deep,
    });
    const atLimit = join(dir, "at-limit.json");
    writeFileSync(atLimit, nested(MAX_JSON_DEPTH));
    assert.equal(depthOf(await readJsonInput(atLimit, "context")), MAX_JSON_DEPTH);
  });

  test("a replay trace line nested past the limit is refused at its line, before mutations clone it", () => {
    const call = (args: string) => `{"tool":"read_file","arguments":${args}}`;
    const text = `${call('{"path":"/x"}')}\n${call(`{"a":${nested(10_000)}}`)}\n`;
    assert.throws(() => parseTrace(text, "trace.ndjson"), {
      code: "bundle_syntax",
      message: `the line nests deeper than ${MAX_JSON_DEPTH} levels`,
      where: "trace.ndjson:2",
    });
  });

  test("a soak report nested past the limit is refused before its schema check", () => {
    assert.throws(() => parseSoakReport(`{"trials":${nested(10_000)}}`), {
      code: "input_invalid",
      message: `the report nests deeper than ${MAX_JSON_DEPTH} levels`,
    });
  });
});
