import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { AssayError } from "../../../src/lib/errors.js";
import { timeAt, toUtc } from "../../../src/matrix/sources/timestamp.js";

describe("toUtc: RFC 3339 to UTC with Z, precision kept", () => {
  test("zones are applied, fractions kept as written", () => {
    const cases: Array<[string, string, boolean]> = [
      ["2026-12-06T20:31:54.603Z", "2026-12-06T20:31:54.603Z", true],
      ["2026-12-06T20:31:54Z", "2026-12-06T20:31:54Z", true],
      ["2026-12-06t20:31:54z", "2026-12-06T20:31:54Z", true],
      ["2026-12-06T21:31:54.603+01:00", "2026-12-06T20:31:54.603Z", true],
      ["2026-12-06T20:31:54.123456789-05:30", "2026-12-07T02:01:54.123456789Z", true],
      ["2027-01-01T00:30:00+01:00", "2026-12-31T23:30:00Z", true],
      ["2026-12-06T20:31:54", "2026-12-06T20:31:54Z", false],
      ["2026-12-06 20:31:54.5", "2026-12-06T20:31:54.5Z", false],
      ["0001-01-01T00:00:00Z", "0001-01-01T00:00:00Z", true],
      ["2026-12-06T21:31:54+0100", "2026-12-06T20:31:54Z", true],
      ["2026-12-06T21:31:54+01", "2026-12-06T20:31:54Z", true],
    ];
    for (const [text, utc, zoned] of cases) assert.deepEqual(toUtc(text), { utc, zoned }, text);
  });

  test("what is not a time is undefined, impossible dates included", () => {
    for (const text of [
      "",
      "yesterday",
      "2026-12-06",
      "2026-02-30T00:00:00Z",
      "2026-13-01T00:00:00Z",
      "2026-12-06T24:00:00Z",
      "2026-12-06T23:59:60Z",
      "2026-12-06T20:31:54+25:00",
      "2026-12-06T20:31:54+01:60",
      "2026-12-06T20:31:54+1",
      "2026-12-06T20:31:54.Z",
      "0000-01-01T00:30:00+01:00",
      " 2026-12-06T20:31:54Z",
    ])
      assert.equal(toUtc(text), undefined, text);
  });

  test("timeAt names the file and pointer, and wants a zone", () => {
    const at = { path: "r.json", base: "/output" };
    assert.equal(timeAt("2026-12-06T21:00:00+01:00", at, "/t"), "2026-12-06T20:00:00Z");
    for (const bad of ["2026-12-06T20:00:00", "noon", 17, null]) {
      assert.throws(
        () => timeAt(bad, at, "/t"),
        (e: unknown) =>
          e instanceof AssayError && e.code === "matrix_artifact_invalid" && e.where === "r.json#/output/t",
      );
    }
  });
});
