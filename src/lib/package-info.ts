import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

// INVARIANT: this module sits two levels below the package root in src/, dist/ and the CLI
// bundle (dist/cli-bundle/), so `../../` is the package root in all three. Paths into the
// package are found here, not by modules deeper in src/ (src/sim/drivers/ is three levels down).
const pkg = createRequire(import.meta.url)("../../package.json") as { name: string; version: string };

/** This package's name and version, as package.json says. */
export const PACKAGE = Object.freeze({ name: pkg.name, version: pkg.version });

/** `bin/assay` of this package. */
export const ASSAY_BIN = fileURLToPath(new URL("../../bin/assay", import.meta.url));

/**
 * What this build of the package was built from (the digest scripts/build.mjs stamps into
 * dist/ once a build has finished), or undefined when running from src/ (tsx; dist/ may be
 * older than the code running) or while dist/ is being rebuilt. Caches key their entries by it.
 */
export function buildId(): string | undefined {
  const root = fileURLToPath(new URL("../../", import.meta.url));
  if (relative(root, fileURLToPath(import.meta.url)).split(sep)[0] !== "dist") return undefined;
  try {
    const stamp = readFileSync(new URL("../../dist/.build-inputs", import.meta.url), "utf8").trim();
    return /^[0-9a-f]{64}$/.test(stamp) ? `${pkg.version}+${stamp}` : undefined;
  } catch {
    return undefined;
  }
}
