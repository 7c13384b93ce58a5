import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

// INVARIANT: this module sits two levels below the package root in src/, dist/ and the CLI
// bundle (dist/cli-bundle/), so `../../` is the package root in all three. Paths into the
// package are found here, not by modules deeper in src/ (src/sim/drivers/ is three levels down).
const pkg = createRequire(import.meta.url)("../../package.json") as { name: string; version: string };

/** This package's name and version, as package.json says. */
export const PACKAGE = Object.freeze({ name: pkg.name, version: pkg.version });

/** `bin/assay` of this package. */
export const ASSAY_BIN = fileURLToPath(new URL("../../bin/assay", import.meta.url));
