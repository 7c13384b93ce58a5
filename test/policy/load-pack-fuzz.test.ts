import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { stringify } from "yaml";
import { AssayError } from "../../src/lib/errors.js";
import { compilePolicy } from "../../src/policy/compile.js";
import { parsePack } from "../../src/policy/load-pack.js";
import { fixtureText } from "./helpers.js";

describe("property: no input makes the loader or compiler throw anything but AssayError", () => {
  const p1Text = fixtureText("p1.yaml");
  const p1Doc = parsePack(p1Text, "p1.yaml").doc;

  /** Parse and compile; an AssayError is a fine answer, anything else fails the property. */
  const survive = (text: string) => {
    try {
      compilePolicy([parsePack(text, "fuzz.yaml")]);
    } catch (err) {
      if (!(err instanceof AssayError)) throw err;
      assert.ok(err.diagnostics.length > 0);
      for (const d of err.diagnostics) assert.equal(typeof d.message, "string");
    }
  };

  test("mutated YAML of the example pack", () => {
    const yamlChars = fc.constantFrom(
      ..."-:[]{},'\"\n #&*!|>%@`?\t\\".split(""),
      "a",
      "0",
      "*",
      "~",
      "null",
      "&x",
      "*x",
      "!!str",
      "!!binary",
      "<<: ",
      "---\n",
      "\u00e9",
      "\ud800",
    );
    const edit = fc.oneof(
      fc.record({ kind: fc.constant("delete" as const), at: fc.nat(), len: fc.nat({ max: 20 }) }),
      fc.record({
        kind: fc.constant("insert" as const),
        at: fc.nat(),
        text: fc.string({ unit: yamlChars, maxLength: 6 }),
      }),
      fc.record({ kind: fc.constant("swap" as const), at: fc.nat(), to: fc.nat() }),
    );
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 4 }), (edits) => {
        let text = p1Text;
        for (const e of edits) {
          const at = e.at % (text.length + 1);
          if (e.kind === "delete") text = text.slice(0, at) + text.slice(at + e.len);
          else if (e.kind === "insert") text = text.slice(0, at) + e.text + text.slice(at);
          else {
            const ls = text.split("\n");
            const i = e.at % ls.length;
            const j = e.to % ls.length;
            [ls[i], ls[j]] = [ls[j] as string, ls[i] as string];
            text = ls.join("\n");
          }
        }
        survive(text);
      }),
      { numRuns: 300 },
    );
  });

  test("structurally mutated packs, written as YAML and as JSON", () => {
    const pointerInto = (doc: unknown, picks: number[]): (string | number)[] => {
      const path: (string | number)[] = [];
      let node = doc;
      for (const pick of picks) {
        if (Array.isArray(node) && node.length > 0) {
          const i = pick % node.length;
          path.push(i);
          node = node[i];
        } else if (node !== null && typeof node === "object" && Object.keys(node).length > 0) {
          const keys = Object.keys(node);
          const k = keys[pick % keys.length] as string;
          path.push(k);
          node = (node as Record<string, unknown>)[k];
        } else break;
      }
      return path;
    };
    const replacement = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom(
        "10.0.0.0/33",
        "fd00::/129",
        "size(",
        "(?=x)",
        "*",
        "",
        "defaults",
        "r0",
        -1,
        1e308,
        null,
      ),
    );
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ picks: fc.array(fc.nat(), { maxLength: 6 }), value: replacement, drop: fc.boolean() }),
          {
            minLength: 1,
            maxLength: 3,
          },
        ),
        fc.boolean(),
        (mutations, asJson) => {
          const doc = structuredClone(p1Doc) as unknown as Record<string, unknown>;
          for (const m of mutations) {
            const path = pointerInto(doc, m.picks);
            const key = path.pop();
            if (key === undefined) continue;
            let parent: unknown = doc;
            for (const seg of path) parent = (parent as Record<string | number, unknown>)[seg];
            if (m.drop && !Array.isArray(parent)) delete (parent as Record<string, unknown>)[key];
            else (parent as Record<string | number, unknown>)[key] = m.value;
          }
          survive(asJson ? JSON.stringify(doc) : stringify(doc));
        },
      ),
      { numRuns: 200 },
    );
  });

  test("arbitrary text and arbitrary JSON", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.json({ maxDepth: 4 })), (text) => survive(text)),
      { numRuns: 2500 },
    );
  });
});
