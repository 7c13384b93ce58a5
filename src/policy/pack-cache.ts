import { createHash } from "node:crypto";
import { constants } from "node:fs";
import { lstat, mkdir, open, readdir, rm, stat } from "node:fs/promises";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import type { ValidateFunction } from "ajv";
import { writeFileAtomic } from "../lib/atomic-write.js";
import type { SchemaCompiler } from "./compile-ir.js";
import type { PackDoc } from "./pack-types.js";
import { acceptedRe2Engine, re2Engine } from "./re2-engine.js";

/**
 * Where compiled packs are kept between processes, and the build they were compiled by: an
 * entry is only ever read back by the same build of Assay on the same Node.
 */
export interface PackCache {
  readonly dir: string;
  readonly buildId: string;
}

/** What a cache entry gives back: the packs as parsed and schema-checked, and their validators. */
export interface CachedPacks {
  readonly docs: readonly PackDoc[];
  readonly schemas: SchemaCompiler;
}

const FORMAT = "assay-pack-cache/1";
/** Entries beyond this many, oldest written first, are removed whenever one is written. */
export const MAX_CACHE_ENTRIES = 64;
/**
 * ajv's generated code requires only its own runtime helpers (ucs2length, equal, uri, ...): code
 * that asks for anything else is not what ajv wrote, and is not run. A check of shape, not a
 * sandbox: what keeps others' code out is where entries are read from (entryText).
 */
const RUNTIME_MODULE = /^ajv\/dist\/runtime\/[a-z0-9_]+$/;
/** Entry files, and the temporary files their writers rename into place: all that prune removes. */
const ENTRY_NAME = /^[0-9a-f]{64}\.json(\.\d+\.[0-9a-f]+\.tmp)?$/;
const requireRuntime = createRequire(import.meta.url);

/**
 * The entry's name: the packs' exact text, in order, under this build and this Node. Any edit
 * to a pack, a rebuild of Assay or another Node gives another key, so an entry never goes stale.
 */
export function packCacheKey(buildId: string, texts: readonly string[]): string {
  const h = createHash("sha256").update(`${FORMAT}\0${buildId}\0${process.version}\0${texts.length}\0`);
  for (const t of texts) h.update(createHash("sha256").update(t).digest("hex")).update("\0");
  return h.digest("hex");
}

function entryPath(cache: PackCache, key: string): string {
  return join(cache.dir, "packs", `${key}.json`);
}

/**
 * The entry for `key`, or undefined when there is none or it is unusable (truncated, damaged,
 * of another shape): the caller then compiles afresh, so a bad entry costs time, never a wrong
 * answer it could notice. The first line is the sha256 of the rest, which catches damage.
 */
export async function readCachedPacks(
  cache: PackCache,
  key: string,
  count: number,
): Promise<CachedPacks | undefined> {
  const text = await entryText(cache, key).catch(() => undefined);
  if (text === undefined) return undefined;
  const nl = text.indexOf("\n");
  const body = text.slice(nl + 1);
  if (nl !== 64 || createHash("sha256").update(body).digest("hex") !== text.slice(0, nl)) return undefined;
  let entry: unknown;
  try {
    entry = JSON.parse(body);
  } catch {
    return undefined;
  }
  const e = entry as { format?: unknown; key?: unknown; docs?: unknown; validators?: unknown };
  if (
    e === null ||
    typeof e !== "object" ||
    e.format !== FORMAT ||
    e.key !== key ||
    !Array.isArray(e.docs) ||
    e.docs.length !== count ||
    e.validators === null ||
    typeof e.validators !== "object" ||
    Object.values(e.validators).some((c) => typeof c !== "string")
  ) {
    return undefined;
  }
  const code = e.validators as Record<string, string>;
  const schemas: SchemaCompiler = (_schema, at) => {
    const source = Object.hasOwn(code, `${at.pack}/${at.rule}`) ? code[`${at.pack}/${at.rule}`] : undefined;
    if (source === undefined)
      throw new Error(`the pack cache holds no validator for rule ${at.pack}/${at.rule}`);
    return instantiate(source);
  };
  return { docs: e.docs as PackDoc[], schemas };
}

const uid = process.getuid?.();

/** Owned by this user (or, for a folder above the entries, root) and writable by no one else. */
function isPrivate(s: { uid: number; mode: number }, rootToo = false): boolean {
  return uid === undefined || ((s.uid === uid || (rootToo && s.uid === 0)) && (s.mode & 0o022) === 0);
}

/**
 * Entries hold code the gate runs, so one is used only when no one else could have written it,
 * as ssh treats ~/.ssh: the cache folder owned by this user (or root) and writable by no one
 * else; `packs/` in it a real folder (not a symlink), this user's, and as private; and the entry
 * itself, opened without following a symlink and checked on the open file (so nothing swapped in
 * between the checks and the read is read), a regular file of this user's that no one else can
 * write. Where there are no uids (Windows) none of this is checked: the folder's ACLs decide.
 */
async function entryText(cache: PackCache, key: string): Promise<string | undefined> {
  if (!(await privateFolders(cache))) return undefined;
  const fh = await open(entryPath(cache, key), constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  try {
    const s = await fh.stat();
    if (!s.isFile() || !isPrivate(s)) return undefined;
    return await fh.readFile("utf8");
  } finally {
    await fh.close();
  }
}

async function privateFolders(cache: PackCache): Promise<boolean> {
  const [top, packs] = await Promise.all([stat(cache.dir), lstat(join(cache.dir, "packs"))]);
  return top.isDirectory() && isPrivate(top, true) && packs.isDirectory() && isPrivate(packs);
}

/**
 * Whether this process may create the cache's missing folders: the nearest one that exists is
 * its own (or root's). Not another user's home, as under `sudo` with that user's HOME, which
 * would leave root's folders there.
 */
async function mayCreateIn(dir: string): Promise<boolean> {
  for (let d = dir; ; d = dirname(d)) {
    const s = await stat(d).catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT") return undefined;
      throw err;
    });
    if (s !== undefined) return s.isDirectory() && (uid === undefined || s.uid === uid || s.uid === 0);
    if (dirname(d) === d) return false;
  }
}

/** Run a validator's standalone code (CommonJS, as ajv writes it) and return the validator. */
function instantiate(source: string): ValidateFunction {
  const module = { exports: {} as unknown };
  const require = (id: string): unknown => {
    if (!RUNTIME_MODULE.test(id)) throw new Error(`a cached validator requires \`${id}\``);
    return requireRuntime(id);
  };
  new Function("module", "exports", "require", re2Engine.code, source)(
    module,
    module.exports,
    require,
    acceptedRe2Engine,
  );
  if (typeof module.exports !== "function") throw new Error("a cached validator exports no function");
  return module.exports as ValidateFunction;
}

/**
 * Keep `docs` (as parsed and schema-checked) and the validators' code under `key`. Best effort:
 * a cache that cannot be written (read-only home, full disk) only means compiling next time, so
 * this never throws. Packs that JSON cannot carry exactly are not kept.
 */
export async function writeCachedPacks(
  cache: PackCache,
  key: string,
  docs: readonly PackDoc[],
  validators: ReadonlyMap<string, string>,
): Promise<boolean> {
  const body = JSON.stringify({ format: FORMAT, key, docs, validators: Object.fromEntries(validators) });
  // YAML can say what JSON cannot (-0, an object without a prototype): such packs are not kept.
  if (!isDeepStrictEqual((JSON.parse(body) as { docs: unknown }).docs, docs)) return false;
  const dir = join(cache.dir, "packs");
  try {
    if (!(await mayCreateIn(dir))) return false;
    // The entry holds code the next process runs: only its owner may write the folder.
    await mkdir(dir, { recursive: true, mode: 0o700 });
    if (!(await privateFolders(cache))) return false;
    const digest = createHash("sha256").update(body).digest("hex");
    await writeFileAtomic(entryPath(cache, key), `${digest}\n${body}`, { mode: 0o600, sync: false });
    await prune(dir);
    return true;
  } catch {
    return false;
  }
}

/**
 * Remove the oldest entries beyond MAX_CACHE_ENTRIES (and temporary files a killed writer left):
 * only files named as entries are, whatever else the folder holds.
 */
async function prune(dir: string): Promise<void> {
  const names = (await readdir(dir)).filter((n) => ENTRY_NAME.test(n));
  if (names.length <= MAX_CACHE_ENTRIES) return;
  const aged = await Promise.all(
    names.map(async (n) => ({
      n,
      t: await stat(join(dir, n)).then(
        (s) => s.mtimeMs,
        () => 0,
      ),
    })),
  );
  aged.sort((a, b) => b.t - a.t || (a.n < b.n ? -1 : 1));
  await Promise.all(aged.slice(MAX_CACHE_ENTRIES).map(({ n }) => rm(join(dir, n), { force: true })));
}
