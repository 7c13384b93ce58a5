import { readFile, stat } from "node:fs/promises";
import { type CompileOptions, compileLoaded } from "./compile-ir.js";
import type { CompiledPolicy } from "./ir.js";
import type { LoadedPack } from "./load-pack.js";
import { type PackCache, packCacheKey, readCachedPacks, writeCachedPacks } from "./pack-cache.js";
import { MAX_PACK_BYTES, type PackDoc } from "./pack-types.js";

export interface CompilePacksOptions extends CompileOptions {
  /**
   * Keep compiled packs here between processes (pack-cache.ts): a pack compiled before by this
   * build is neither parsed nor compiled by ajv again. Without it, every call compiles afresh.
   */
  cache?: PackCache;
}

/**
 * Load and compile pack files: the shared first step of every command that decides. The YAML
 * parser and ajv are loaded only when a pack has to be compiled, not when it comes from the cache.
 */
export async function compilePacks(
  paths: readonly string[],
  options: CompilePacksOptions = {},
): Promise<CompiledPolicy> {
  const { cache, ...compileOptions } = options;
  const texts = cache ? await readPackTexts(paths) : undefined;
  if (cache === undefined || texts === undefined) {
    const [{ loadPack }, { ajvSchemas }] = await Promise.all([
      import("./load-pack.js"),
      import("./args-schema.js"),
    ]);
    return compileLoaded(await Promise.all(paths.map((p) => loadPack(p))), ajvSchemas(), compileOptions);
  }
  const key = packCacheKey(cache.buildId, texts);
  const hit = await readCachedPacks(cache, key, paths.length);
  if (hit) {
    try {
      return compileLoaded(
        hit.docs.map((doc, i) => cachedPack(paths[i] as string, doc)),
        hit.schemas,
        compileOptions,
      );
    } catch {
      // An entry this build cannot use (damaged past its checksum's reach): compile afresh below.
    }
  }
  const [{ parsePack }, { recordingSchemas }] = await Promise.all([
    import("./load-pack.js"),
    import("./args-schema.js"),
  ]);
  const packs = texts.map((t, i) => parsePack(t, paths[i] as string));
  const docs = packs.map((p) => p.doc);
  const recorder = recordingSchemas();
  const policy = compileLoaded(packs, recorder.compile, compileOptions);
  const code = recorder.code();
  if (code) await writeCachedPacks(cache, key, docs, code);
  return policy;
}

/**
 * Each pack's text, read as loadPack reads it; undefined when one cannot be read or is too
 * large, so that loadPack reports it with its usual error.
 */
async function readPackTexts(paths: readonly string[]): Promise<string[] | undefined> {
  try {
    return await Promise.all(
      paths.map(async (p) => {
        if ((await stat(p)).size > MAX_PACK_BYTES) throw new Error("too large");
        return readFile(p, "utf8");
      }),
    );
  } catch {
    return undefined;
  }
}

/** A pack from the cache: it compiled before, so no error will need its line and column. */
function cachedPack(source: string, doc: PackDoc): LoadedPack {
  return Object.freeze({ source, doc, locate: (pointer: string) => `${source}#${pointer}` });
}
