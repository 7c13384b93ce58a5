import { type CompileOptions, compileLoaded } from "./compile-ir.js";
import type { CompiledPolicy } from "./ir.js";
import type { LoadedPack } from "./load-pack.js";
import { type PackCache, packCacheKey, readCachedPacks, writeCachedPacks } from "./pack-cache.js";
import type { PackDoc } from "./pack-types.js";
import { readPackText } from "./read-pack.js";

export interface CompilePacksOptions extends CompileOptions {
  /**
   * Keep compiled packs here between processes (pack-cache.ts): a pack compiled before by this
   * build is neither parsed nor compiled by ajv again. Without it, every call compiles afresh.
   */
  cache?: PackCache;
}

/**
 * Load and compile pack files: the shared first step of every command that decides. Each file
 * is read once. The YAML parser and ajv are loaded only when a pack has to be compiled, not when
 * it comes from the cache.
 */
export async function compilePacks(
  paths: readonly string[],
  options: CompilePacksOptions = {},
): Promise<CompiledPolicy> {
  const { cache, ...compileOptions } = options;
  const texts = await Promise.all(paths.map((p) => readPackText(p)));
  const key = cache ? packCacheKey(cache.buildId, texts) : undefined;
  const hit = cache && key ? await readCachedPacks(cache, key, paths.length) : undefined;
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
  const [{ parsePack }, { ajvSchemas, recordingSchemas }] = await Promise.all([
    import("./load-pack.js"),
    import("./args-schema.js"),
  ]);
  const packs = texts.map((t, i) => parsePack(t, paths[i] as string));
  if (!cache || !key) return compileLoaded(packs, ajvSchemas(), compileOptions);
  const docs = packs.map((p) => p.doc);
  const recorder = recordingSchemas();
  const policy = compileLoaded(packs, recorder.compile, compileOptions);
  const code = recorder.code();
  if (code) await writeCachedPacks(cache, key, docs, code);
  return policy;
}

/** A pack from the cache: it compiled before, so no error will need its line and column. */
function cachedPack(source: string, doc: PackDoc): LoadedPack {
  return Object.freeze({ source, doc, locate: (pointer: string) => `${source}#${pointer}` });
}
