import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { findLossyNumber, jsonPointerAt, lossyReading } from "../../src/evidence/lossy-number.js";

describe("lossy numbers (the bundle writer's refusal)", () => {
  test("a number is lossy when the double it reads as is a different number", () => {
    const lossy: [string, string][] = [
      ["9007199254740993", "9007199254740992"],
      ["-9007199254740993", "-9007199254740992"],
      ["18446744073709551615", "18446744073709552000"],
      ["0.10000000000000001", "0.1"],
      ["1.0000000000000000000001", "1"],
      ["1e400", "Infinity"],
      ["-1e400", "-Infinity"],
      ["1e-400", "0"],
      ["2e-324", "0"],
      ["123456789012345678.5", "123456789012345680"],
    ];
    for (const [token, reads] of lossy) assert.equal(lossyReading(token), reads, token);
    const exact = [
      "0",
      "-0",
      "-0.0",
      "1.50",
      "1E2",
      "1e+2",
      "100000000000000000000",
      "1e21",
      "9007199254740992",
      "0.30000000000000004",
      "5e-324",
      "1.7976931348623157e308",
      "0.000000000000000000001",
      "123456789012345",
    ];
    for (const token of exact) assert.equal(lossyReading(token), undefined, token);
  });

  test("finds the first lossy number with its offset and pointer; numbers inside strings are not numbers", () => {
    const text =
      '{"s":"1e400 \\" 9007199254740993","a/b":{"~k":[1,2.5,{"x":[0.10000000000000001]}]},"z":1e400}';
    const found = findLossyNumber(text);
    assert.deepEqual(found, {
      offset: text.indexOf("0.10000000000000001"),
      token: "0.10000000000000001",
      reads: "0.1",
      pointer: "/a~1b/~0k/2/x/0",
    });
    assert.equal(findLossyNumber('{"a":[1,2,3],"b":"9007199254740993","c":-12.5e3}'), undefined);
    assert.equal(findLossyNumber("9007199254740993")?.pointer, "");
    assert.equal(findLossyNumber(`[${"1".repeat(50)}]`)?.token, `${"1".repeat(37)}...`);
  });

  test("jsonPointerAt: arrays count elements, keys are unescaped then RFC 6901-escaped", () => {
    const text = '{"a":[{"b":1},{"c\\u002fd":[true,null,7]}],"e\\"":8}';
    assert.equal(jsonPointerAt(text, text.indexOf("7")), "/a/1/c~1d/2");
    assert.equal(jsonPointerAt(text, text.indexOf("8")), '/e"');
    assert.equal(jsonPointerAt(text, 0), "");
    // An empty object before a string in an array (found by the property test below).
    const afterEmpty = '[{},"Y",[0,{"J":1}]]';
    assert.equal(jsonPointerAt(afterEmpty, afterEmpty.indexOf("1")), "/2/1/J");
  });

  test("JSON that JSON.stringify writes never has a lossy number (ECMAScript prints the shortest exact form)", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (v) => {
        assert.equal(findLossyNumber(JSON.stringify(v)), undefined);
      }),
      { numRuns: 500, seed: 18 },
    );
  });

  test("an integer token is lossy exactly when its double prints a different integer", () => {
    // ECMAScript prints integers from 1e21 on as `d.ddde+N`: expanded here to compare as integers.
    const printedInteger = (n: number): bigint => {
      const m = /^(-?)(\d)(?:\.(\d+))?e\+(\d+)$/.exec(String(n));
      if (!m) return BigInt(String(n));
      const frac = m[3] ?? "";
      return BigInt(`${m[1]}${m[2]}${frac}${"0".repeat(Number(m[4]) - frac.length)}`);
    };
    fc.assert(
      fc.property(fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }), (b) => {
        const token = b.toString();
        const changed = printedInteger(Number(token)) !== b;
        assert.equal(lossyReading(token) !== undefined, changed, token);
      }),
      { numRuns: 2000, seed: 18 },
    );
    // Beyond 2^53 but printed back unchanged (5^22 × 1000 is not a double, its shortest form is).
    assert.equal(lossyReading("2384185791015625000"), undefined);
  });

  test("the pointer of a lossy number planted anywhere in a document leads to it", () => {
    const planted = "9007199254740993";
    const marker = "__lossy__";
    fc.assert(
      fc.property(
        fc.jsonValue({ maxDepth: 4 }),
        fc.array(fc.oneof(fc.string({ maxLength: 4 }), fc.nat({ max: 3 })), { maxLength: 4 }),
        (doc, path) => {
          // Walk `path` into `doc` as far as it goes (building containers), then plant the marker.
          const root = { v: doc as unknown };
          let parent: Record<string | number, unknown> = root;
          let key: string | number = "v";
          const pointer: string[] = [];
          for (const step of path) {
            let here = parent[key];
            if (typeof step === "number") {
              if (!Array.isArray(here)) here = parent[key] = [];
              const arr = here as unknown[];
              while (arr.length <= step) arr.push(0);
              pointer.push(String(step));
              parent = arr as unknown as Record<number, unknown>;
            } else {
              if (typeof here !== "object" || here === null || Array.isArray(here)) here = parent[key] = {};
              pointer.push(step.replaceAll("~", "~0").replaceAll("/", "~1"));
              parent = here as Record<string, unknown>;
            }
            key = step;
          }
          parent[key] = marker;
          const text = JSON.stringify(root.v).replace(`"${marker}"`, planted);
          const found = findLossyNumber(text);
          assert.equal(found?.token, planted);
          assert.equal(found?.pointer, pointer.map((p) => `/${p}`).join(""));
        },
      ),
      { numRuns: 500, seed: 18 },
    );
  });
});
