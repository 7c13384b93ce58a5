import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import fc from "fast-check";
import { AssayError } from "../../src/lib/errors.js";
import { assertWritable, schemaProblem, schemaValidator } from "../../src/lib/schema-validator.js";
import {
  specDigest,
  specSourceText,
  VALIDATOR_SPECS,
  type ValidatorName,
} from "../../src/lib/validator-specs.js";
import { ARGS_AJV_OPTIONS, argsAjv, compilePolicy } from "../../src/policy/compile.js";

const ROOT = new URL("../../", import.meta.url);
const names = Object.keys(VALIDATOR_SPECS) as ValidatorName[];

describe("schema validators generated at build time", () => {
  test("every validator in dist/validators/ was built from the schema and options in the tree now", () => {
    for (const name of names) {
      const spec = VALIDATOR_SPECS[name];
      const text = specSourceText(spec, (path) => readFileSync(new URL(path, ROOT), "utf8"));
      const first = readFileSync(new URL(`dist/validators/${name}.cjs`, ROOT), "utf8").split("\n", 1)[0];
      assert.ok(
        first?.endsWith(` ${specDigest(text, spec)}`),
        `dist/validators/${name}.cjs is stale: run \`npm run build\``,
      );
    }
  });

  test("each generated validator agrees with ajv compiling its schema now, on documents that pass and fail", () => {
    const samples: Record<string, unknown[]> = {
      "tool-pins": [{ schema_version: 2, tools: {} }, { schema_version: 9 }, []],
      "dsse-envelope": [{ payload: "e30=", payloadType: "x", signatures: [{ sig: "AA==" }] }, {}],
      "evidence-manifest": [{}, { schema_version: 1 }],
      "in-toto-statement": [{ _type: "https://in-toto.io/Statement/v1", subject: [] }, null],
    };
    for (const [name, docs] of Object.entries(samples)) {
      const spec = VALIDATOR_SPECS[name as ValidatorName] as { schema: string; options: object };
      const fresh = new Ajv2020({ ...spec.options }).compile(
        JSON.parse(readFileSync(new URL(`schemas/${spec.schema}`, ROOT), "utf8")),
      );
      const built = schemaValidator(name as ValidatorName);
      for (const doc of docs) {
        assert.equal(built(doc), fresh(doc), `${name}: ${JSON.stringify(doc)}`);
        assert.deepEqual(built.errors ?? null, fresh.errors ?? null, `${name}: ${JSON.stringify(doc)}`);
      }
    }
  });

  test("no module compiles a shipped schema at run time: only policy/args-schema.ts makes an Ajv (for packs' args schemas)", () => {
    const src = new URL("src/", ROOT);
    const files = readdirSync(src, { recursive: true, encoding: "utf8" }).filter((f) => f.endsWith(".ts"));
    const makers = files.filter((f) =>
      /\bnew\s+Ajv|\breadSchema\(/.test(readFileSync(new URL(f, src), "utf8")),
    );
    assert.deepEqual(makers, ["policy/args-schema.ts"]);
  });
});

describe("args schemas are checked against the prebuilt meta-schema exactly as ajv would", () => {
  const reference = new Ajv2020(ARGS_AJV_OPTIONS);
  /** What ajv's own check says: "ok", or its error message. */
  function ajvSays(schema: unknown): string {
    try {
      reference.validateSchema(schema as object, true);
      return "ok";
    } catch (err) {
      return (err as Error).message;
    }
  }
  /** What compiling a pack with this args schema says: "ok", or the message after "invalid JSON Schema: ". */
  function weSay(schema: unknown): string {
    try {
      compilePolicy([
        {
          id: "p",
          version: "1",
          rules: [{ id: "r", dimension: "security", severity: "high", args: { tools: ["t"], schema } }],
        },
      ] as never);
      return "ok";
    } catch (err) {
      assert.ok(err instanceof AssayError, String(err));
      const m = /invalid JSON Schema: (.*)$/.exec(err.message);
      assert.ok(m, err.message);
      return m[1] as string;
    }
  }

  const keyword = fc.constantFrom(
    "type",
    "minLength",
    "maxItems",
    "pattern",
    "enum",
    "required",
    "properties",
    "items",
    "allOf",
    "anyOf",
    "not",
    "const",
    "minimum",
    "uniqueItems",
    "$defs",
    "additionalProperties",
    "$ref",
  );
  const value = fc.oneof(
    fc.constantFrom("string", "object", "nope", "^a", -1, 0, 3, true, null, [], ["a"], [1, "b"], {}),
    fc.dictionary(fc.constantFrom("type", "minLength", "a"), fc.constantFrom("string", 2, -3, "x", [])),
  );
  const schema = fc.dictionary(keyword, value, { maxKeys: 4 });

  test("same verdict and the same message, for generated schemas valid and not", () => {
    fc.assert(
      fc.property(schema, (s) => {
        const ours = weSay(s);
        const theirs = ajvSays(s);
        // A schema the meta-schema accepts may still fail compiling (strict mode): not this check's.
        if (theirs !== "ok") assert.equal(ours, theirs);
        else assert.doesNotMatch(ours, /^schema is invalid/);
      }),
      { numRuns: 300 },
    );
  });

  test("a schema naming another dialect in $schema gets ajv's own check and message", () => {
    for (const dialect of [
      "http://json-schema.org/draft-07/schema#",
      "https://example.com/nope",
      "https://json-schema.org/draft/2020-12/schema#",
    ]) {
      for (const s of [
        { $schema: dialect, type: "string" },
        { $schema: dialect, type: "nope" },
      ]) {
        assert.equal(weSay(s), ajvSays(s), JSON.stringify(s));
      }
    }
    assert.match(weSay({ $schema: "https://example.com/nope" }), /no schema with key or ref/);
  });

  test("schemaProblem names the first problem by pointer; assertWritable refuses to write on it", () => {
    const good = { payload: "e30=", payloadType: "t", signatures: [{ keyid: "k", sig: "AAAA" }] };
    assert.equal(schemaProblem("dsse-envelope", good), undefined);
    assert.doesNotThrow(() => assertWritable("dsse-envelope", good, "the envelope"));
    const bad = { ...good, signatures: [{ keyid: "k", sig: 5 }] };
    assert.equal(schemaProblem("dsse-envelope", bad), "/signatures/0/sig: must be string");
    assert.throws(
      () => assertWritable("dsse-envelope", bad, "the envelope"),
      (err: unknown) =>
        err instanceof AssayError &&
        err.code === "internal" &&
        err.message ===
          "the envelope does not match the dsse-envelope schema, so it was not written: /signatures/0/sig: must be string",
    );
  });

  test("the ajv that compiles args schemas uses the prebuilt meta-schema validator (it compiles none)", () => {
    const ajv = argsAjv();
    assert.equal(
      ajv.getSchema("https://json-schema.org/draft/2020-12/schema"),
      schemaValidator("args-meta-schema"),
    );
  });

  test("a duplicate $id is reported before the meta-schema check, as ajv does", () => {
    const invalid = { type: "objekt" };
    const dup = {
      $id: "https://example.com/x",
      properties: { a: { $id: "https://example.com/x", ...invalid } },
    };
    assert.match(weSay(dup), /already exists|duplicate|resolves to more than one schema/);
    assert.equal(weSay(dup), ajvCompileSays(dup));
  });

  /** What a plain ajv (compiling the meta-schema itself) says when compiling `schema`. */
  function ajvCompileSays(schema: unknown): string {
    try {
      new Ajv2020(ARGS_AJV_OPTIONS).compile(schema as object);
      return "ok";
    } catch (err) {
      return (err as Error).message;
    }
  }
});
