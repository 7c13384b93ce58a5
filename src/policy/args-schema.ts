import { Ajv2020 } from "ajv/dist/2020.js";
import standalone from "ajv/dist/standalone/index.js";
import { schemaValidator } from "../lib/schema-validator.js";
import { VALIDATOR_SPECS } from "../lib/validator-specs.js";
import type { SchemaCompiler } from "./compile-ir.js";
import { re2Engine } from "./re2-engine.js";

/** How `args` schemas are compiled: strict about unknown keywords, RE2 for every `pattern`. */
export const ARGS_AJV_OPTIONS = {
  ...VALIDATOR_SPECS["args-meta-schema"].options,
  logger: false,
  code: { regExp: re2Engine },
} as const;

/**
 * The ajv that compiles `args` schemas. ajv checks each against the JSON Schema 2020-12
 * meta-schema, which it would first compile, in every process (~150 ms): it is handed the
 * validator generated from that same meta-schema with these options at build time instead
 * (validator-specs.ts), so the check, its order and its messages stay ajv's own. With `source`,
 * ajv keeps each validator's code, for `standaloneCode` (the pack cache).
 */
export function argsAjv(opts: { source?: boolean } = {}): Ajv2020 {
  const ajv = new Ajv2020(
    opts.source
      ? { ...ARGS_AJV_OPTIONS, code: { ...ARGS_AJV_OPTIONS.code, source: true } }
      : ARGS_AJV_OPTIONS,
  );
  const meta = (ajv as unknown as { schemas: Record<string, { validate?: unknown } | undefined> }).schemas[
    VALIDATOR_SPECS["args-meta-schema"].meta
  ];
  // An ajv laid out otherwise just compiles the meta-schema itself: slower, not different.
  if (meta !== undefined && meta.validate === undefined) meta.validate = schemaValidator("args-meta-schema");
  return ajv;
}

/** `args` schemas compiled by one ajv (one per policy, so `$id`s of one policy never meet another's). */
export function ajvSchemas(): SchemaCompiler {
  const ajv = argsAjv();
  return (schema) => ajv.compile(schema as object);
}

/**
 * `args` schemas compiled by ajv, with each validator's standalone code kept by its rule's
 * place (`pack/rule`), for the pack cache to store. A validator ajv cannot write out as code is
 * still returned, and `code()` is then undefined: the cache stores nothing for this policy.
 */
export function recordingSchemas(): {
  compile: SchemaCompiler;
  /** Each validator's code by `pack/rule`; undefined when one could not be written out. */
  code(): Map<string, string> | undefined;
} {
  const ajv = argsAjv({ source: true });
  const code = new Map<string, string>();
  let complete = true;
  const compile: SchemaCompiler = (schema, at) => {
    const validate = ajv.compile(schema as object);
    try {
      code.set(`${at.pack}/${at.rule}`, standalone.default(ajv, validate));
    } catch {
      // Not every schema has standalone code; such a policy is compiled afresh every time.
      complete = false;
    }
    return validate;
  };
  return { compile, code: () => (complete ? code : undefined) };
}
