import { createRequire } from "node:module";

// INVARIANT: this module sits two levels below the package root in src/, dist/ and the CLI
// bundle (dist/cli-bundle/), so `../../package.json` is ours in all three.
const pkg = createRequire(import.meta.url)("../../package.json") as { name: string; version: string };

/** This package's name and version, as package.json says. */
export const PACKAGE = Object.freeze({ name: pkg.name, version: pkg.version });
