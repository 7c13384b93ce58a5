import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The package root (the repository's top directory). */
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The CLI as users run it: bin/assay, which runs the bundle in dist/ (`npm run build` first). */
export const ASSAY_BIN = join(ROOT, "bin/assay");

/** Run the built CLI (bin/assay runs dist/: `npm run build` first) with `args`, in `cwd`. */
export function runAssay(
  args: readonly string[],
  cwd?: string,
): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [ASSAY_BIN, ...args], {
    ...(cwd === undefined ? {} : { cwd }),
    encoding: "utf8",
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
