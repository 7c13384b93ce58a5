import { ajvSchemas } from "./args-schema.js";
import { type CompileOptions, compileLoaded } from "./compile-ir.js";
import type { CompiledPolicy } from "./ir.js";
import { type LoadedPack, packFromObject } from "./load-pack.js";
import type { PackDoc } from "./pack-types.js";

export { ARGS_AJV_OPTIONS, argsAjv } from "./args-schema.js";
export { type CompileOptions, DEFAULT_CALL_LIMITS } from "./compile-ir.js";

/**
 * Compile packs into one immutable policy. Every JSON Schema validator (ajv), regex, CEL
 * program and CIDR set is built here; a pack that cannot be compiled fails with every problem
 * listed. Packs given as plain objects are schema-checked first.
 */
export function compilePolicy(
  input: readonly (LoadedPack | PackDoc)[],
  options: CompileOptions = {},
): CompiledPolicy {
  const packs = input.map((p, i) => (isLoaded(p) ? p : packFromObject(p, `<pack ${i}>`)));
  return compileLoaded(packs, ajvSchemas(), options);
}

function isLoaded(p: LoadedPack | PackDoc): p is LoadedPack {
  return typeof (p as LoadedPack).locate === "function" && (p as LoadedPack).doc !== undefined;
}
