#!/usr/bin/env node
// Generates dist/validators/<name>.cjs, one standalone ajv validator per entry of
// src/lib/validator-specs.ts (read from its tsc build), so no shipped schema is compiled at run time.
// Run by `prepare` and `build` after tsc. Each file's first line records the digest of the schema
// and options it was built from, which test/lib/schema-validators.test.ts compares with schemas/.
import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv2020 } from "ajv/dist/2020.js";
import standaloneCode from "ajv/dist/standalone/index.js";
import addFormats from "ajv-formats";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const { VALIDATOR_SPECS, specDigest, specSourceText } = await import(
  join(root, "dist/lib/validator-specs.js")
);
const out = join(root, "dist/validators");
mkdirSync(out, { recursive: true });

for (const [name, spec] of Object.entries(VALIDATOR_SPECS)) {
  const source = spec.meta ?? `schemas/${spec.schema}`;
  const text = specSourceText(spec, (path) => readFileSync(join(root, path), "utf8"));
  const ajv = new Ajv2020({ ...spec.options, code: { source: true } });
  if (spec.formats) addFormats(ajv);
  let code;
  try {
    const validate = spec.meta ? ajv.getSchema(spec.meta) : ajv.compile(JSON.parse(text));
    if (!validate) throw new Error("ajv has no such meta-schema");
    code = standaloneCode(ajv, validate);
  } catch (err) {
    console.error(`build-validators: ${source}: ${err.message}`);
    process.exit(2);
  }
  const file = join(out, `${name}.cjs`);
  writeFileSync(`${file}.tmp`, `// built from ${source} ${specDigest(text, spec)}\n${code}\n`);
  renameSync(`${file}.tmp`, file);
}
