import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";
import { buildId } from "../lib/package-info.js";
import type { PackCache } from "../policy/pack-cache.js";

/**
 * The pack cache the CLI's commands compile through (docs/cli.md, "The pack cache"):
 * `$ASSAY_CACHE_DIR`, else `$XDG_CACHE_HOME/assay`, else `~/.cache/assay`. Off when
 * `ASSAY_NO_CACHE` is set (to anything but `0` or empty), and when running from src/.
 */
export function packCacheFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  id: string | undefined = buildId(),
): PackCache | undefined {
  if (env.ASSAY_NO_CACHE && env.ASSAY_NO_CACHE !== "0") return undefined;
  if (id === undefined) return undefined;
  const dir = cacheDir(env);
  return dir === undefined ? undefined : { dir, buildId: id };
}

function cacheDir(env: NodeJS.ProcessEnv): string | undefined {
  if (env.ASSAY_CACHE_DIR) return env.ASSAY_CACHE_DIR;
  // The XDG spec: a relative XDG_CACHE_HOME is invalid and ignored.
  if (env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME)) return join(env.XDG_CACHE_HOME, "assay");
  let home: string;
  try {
    home = env.HOME || homedir();
  } catch {
    return undefined;
  }
  return home ? join(home, ".cache", "assay") : undefined;
}
