import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import fc from "fast-check";
import { ByteOut } from "../../src/gate/byte-out.js";
import { DIGEST as DIGEST_PATTERN, PLAIN, RecordLines, TIME } from "../../src/gate/record-line.js";
import { TEST_DIGEST as DIGEST, decisionEvent } from "./decision-records.js";

const SCHEMA = JSON.parse(
  readFileSync(new URL("../../schemas/decision-event.schema.json", import.meta.url), "utf8"),
);
const validate = new Ajv2020({ strict: true, allowUnionTypes: true }).compile(SCHEMA);

/** A decision record for tool `echo`, allowed by `app-tools`, as an object the tests may bend. */
function record(seq: number, data: Record<string, unknown> = {}): Record<string, unknown> {
  const event: object = decisionEvent(seq, data, { tool: "echo", rule_id: "app-tools" });
  return event as Record<string, unknown>;
}

/**
 * What `encode` writes for `event`, after what was in the buffer before (kept as it was), as
 * text; undefined when it vouches for nothing, having then written nothing.
 */
function fastLine(lines: RecordLines, event: unknown): string | undefined {
  const out = new ByteOut(8);
  out.ascii("before\n");
  const vouched = lines.encode(event, out);
  const text = out.text();
  assert.ok(text.startsWith("before\n"));
  if (!vouched) {
    assert.equal(text, "before\n", "nothing is written for a record not vouched for");
    return undefined;
  }
  return text.slice("before\n".length);
}

/** What the caller does: RecordLines, or the validator and JSON.stringify (then `accepted`). */
function lineOf(lines: RecordLines, event: unknown): { fast: boolean; valid: boolean; text?: string } {
  const fast = fastLine(lines, event);
  if (fast !== undefined) return { fast: true, valid: true, text: fast };
  if (!validate(event)) return { fast: false, valid: false };
  lines.accepted(event);
  return { fast: false, valid: true, text: JSON.stringify(event) };
}

describe("RecordLines", () => {
  test("the schema is what RecordLines assumes of it", () => {
    // The record is an object of known members and one `oneOf` on `type`, with no other keyword
    // tying members together: a value accepted in one place is accepted there in any record.
    assert.deepEqual(Object.keys(SCHEMA).sort(), [
      "$defs",
      "$id",
      "$schema",
      "additionalProperties",
      "description",
      "oneOf",
      "properties",
      "required",
      "title",
      "type",
    ]);
    assert.deepEqual(Object.keys(SCHEMA.properties), [
      "specversion",
      "id",
      "source",
      "type",
      "time",
      "datacontenttype",
      "subject",
      "data",
    ]);
    assert.equal(SCHEMA.additionalProperties, false);
    for (const branch of SCHEMA.oneOf) assert.deepEqual(Object.keys(branch), ["properties"]);
    assert.deepEqual(SCHEMA.oneOf[0].properties.type, { const: "assay.tool.decision" });
    const decision = SCHEMA.$defs.decision;
    assert.deepEqual(Object.keys(decision).sort(), [
      "additionalProperties",
      "properties",
      "required",
      "type",
    ]);
    assert.equal(decision.additionalProperties, false);
    // The values new on every call, which RecordLines checks itself.
    assert.deepEqual(SCHEMA.properties.id, { type: "string", minLength: 1 });
    assert.deepEqual(SCHEMA.properties.time, {
      type: "string",
      pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$",
    });
    const p = decision.properties;
    assert.deepEqual(p.tool_call_id, { type: "string", minLength: 1 });
    assert.deepEqual(p.request_id, { $ref: "#/$defs/requestId" });
    assert.deepEqual(SCHEMA.$defs.requestId, { type: ["string", "number", "null"] });
    assert.deepEqual(p.latency_us, { type: "number", minimum: 0 });
    assert.deepEqual(p.arguments_digest, { type: ["string", "null"], pattern: "^sha256:[0-9a-f]{64}$" });
    // The patterns RecordLines checks those values with are the schema's own.
    assert.equal(TIME.source, SCHEMA.properties.time.pattern);
    assert.equal(DIGEST_PATTERN.source, p.arguments_digest.pattern);
    assert.deepEqual(p.violations, { type: "array", items: { $ref: "#/$defs/violation" } });
  });

  test("a record is vouched for only once its repeated values were accepted, then written as JSON.stringify does", () => {
    const lines = new RecordLines();
    const first = record(0);
    assert.equal(fastLine(lines, first), undefined, "nothing is known yet");
    assert.deepEqual(lineOf(lines, first), { fast: false, valid: true, text: JSON.stringify(first) });
    for (const r of [record(1), record(2, { request_id: "r-2" }), record(3, { arguments_digest: null })]) {
      assert.equal(fastLine(lines, r), JSON.stringify(r));
    }
    const noSubject = record(4, { tool: null });
    delete noSubject.subject;
    assert.equal(fastLine(lines, noSubject), undefined, "a tool not seen before");
    assert.equal(lineOf(lines, noSubject).valid, true);
    assert.equal(fastLine(lines, { ...noSubject, id: "s1:5" }), JSON.stringify({ ...noSubject, id: "s1:5" }));
  });

  test("never vouches for a record the validator refuses, nor writes one other than JSON.stringify", () => {
    const base = record(0);
    const fields = Object.keys(base).filter((k) => k !== "data");
    const dataFields = Object.keys(base.data as object);
    const odd = fc.oneof(
      fc.constantFrom(
        undefined,
        null,
        "",
        "x",
        "1.0",
        0,
        -0,
        -1,
        1.5,
        Number.NaN,
        Number.POSITIVE_INFINITY,
        true,
        false,
        [],
        [{}],
        {},
        "2026-01-02T03:04:05Z",
        "2026-01-02 03:04:05Z",
        "2026-01-02T03:04:05.678Z",
        "2026-01-02T03:04:05.678z",
        "2026-01-02T03:04:05,678Z",
        "2026-01-02T03:04:0\uff15.678Z",
        "+02026-01-02T03:04:05.67Z",
        `sha256:${"a".repeat(63)}`,
        `sha256:${"a".repeat(63)}g`,
        `SHA256:${"a".repeat(64)}`,
        "\ud800",
        'quo"te',
        "line\nbreak",
        DIGEST,
        `sha256:${"A".repeat(64)}`,
        `${DIGEST}\n`,
        "allow",
        "deny",
        "warn",
        "tool_denied",
        "assay.gate.started",
        "2.0",
        "forwarded",
        "would_deny",
        "é",
      ),
      fc.string(),
      fc.double(),
      fc.integer(),
    );
    const mutation = fc.record({
      top: fc.array(fc.tuple(fc.constantFrom(...fields, "extra"), odd), { maxLength: 2 }),
      data: fc.array(fc.tuple(fc.constantFrom(...dataFields, "arguments", "traceparent", "extra"), odd), {
        maxLength: 3,
      }),
      drop: fc.option(fc.constantFrom(...fields, ...dataFields)),
    });
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 12 }), (mutations) => {
        const lines = new RecordLines();
        lineOf(lines, base);
        for (const [i, m] of mutations.entries()) {
          const r = record(i + 1);
          const data = r.data as Record<string, unknown>;
          for (const [k, v] of m.top) r[k] = v;
          for (const [k, v] of m.data) data[k] = v;
          if (m.drop !== null) {
            delete r[m.drop];
            delete data[m.drop];
          }
          const fast = fastLine(lines, r);
          if (fast !== undefined) {
            assert.ok(validate(r), `vouched for an invalid record: ${JSON.stringify(r)}`);
            assert.equal(fast, JSON.stringify(r));
          }
          lineOf(lines, r);
        }
      }),
      { numRuns: 400, seed: 20261206 },
    );
  });

  test("a record whose new values are missing or of another type is left to the validator, even the first one after start", () => {
    for (const [field, value] of [
      ["time", undefined],
      ["time", null],
      ["time", 0],
      ["id", undefined],
      ["id", ""],
      ["tool_call_id", undefined],
      ["request_id", undefined],
      ["request_id", Number.NaN],
      ["latency_us", undefined],
      ["latency_us", -1],
      ["arguments_digest", undefined],
    ] as const) {
      const lines = new RecordLines();
      lineOf(lines, record(0));
      const r = record(1);
      if (field === "time" || field === "id") r[field] = value;
      else (r.data as Record<string, unknown>)[field] = value;
      assert.equal(fastLine(lines, r), undefined, `${field}: ${String(value)}`);
      assert.equal(validate(r), false, `${field}: ${String(value)} is off-schema`);
    }
  });

  test("a value not seen in that place, another record type, or violations: left to the validator", () => {
    const lines = new RecordLines();
    lineOf(lines, record(0));
    assert.equal(fastLine(lines, record(1, { message: "another message" })), undefined);
    assert.equal(fastLine(lines, { ...record(1), type: "assay.gate.started" }), undefined);
    const v = {
      rule_id: "r",
      path: "/x",
      message: "m",
      reason_code: "tool_denied",
      effect: "deny",
      severity: "high",
    };
    assert.equal(fastLine(lines, record(1, { violations: [v] })), undefined);
    assert.equal(fastLine(lines, record(1, { arguments: { a: 1 } })), undefined);
    const reordered = record(1);
    const { data, ...rest } = reordered;
    assert.equal(fastLine(lines, { data, ...rest }), undefined, "members in another order");
    const withJson = { ...record(1), toJSON: () => ({}) };
    assert.equal(fastLine(lines, withJson), undefined);
  });
});

test("PLAIN holds exactly the strings whose JSON is themselves in quotes, one byte a character", () => {
  // Every ASCII character, and the edges past it.
  const unit = fc.oneof(
    fc.integer({ min: 0, max: 0x7f }).map((c) => String.fromCharCode(c)),
    fc.constantFrom('"', "\\", "\u0000", "\u001f", "\u007f", "\u0080", "\u2028", "\ud800", "é", ":", "a"),
  );
  fc.assert(
    fc.property(fc.string({ unit, maxLength: 12 }), (v) => {
      assert.equal(
        PLAIN.test(v),
        JSON.stringify(v) === `"${v}"` && Buffer.byteLength(v, "utf8") === v.length,
        JSON.stringify(v),
      );
    }),
    { numRuns: 2000 },
  );
});
