#!/usr/bin/env node
// Bundles the CLI (src/cli/main.ts and everything it loads, dependencies included) into
// dist/cli-bundle/ for bin/assay. Loading a few chunks instead of some 200 modules is most of
// `assay`'s start-up (bench:startup); each command's chunk still loads only when it runs, as
// the commands import their work lazily. The library (dist/index.js) stays tsc's per-file build.
// Run by `prepare` and `build` after tsc and build-validators.mjs.
import { renameSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// INVARIANT: two levels below the package root, as src/<dir>/ and dist/<dir>/ are: modules find
// package.json, schemas/, dist/validators/ and bin/assay by `../../` from their own URL.
const target = join(root, "dist/cli-bundle");
// Built beside, then swapped in: an `assay` started meanwhile finds the old bundle or the new one.
const outdir = `${target}.tmp-${process.pid}`;
const old = `${target}.old-${process.pid}`;
try {
  await build({
    absWorkingDir: root,
    entryPoints: {
      main: "src/cli/main.ts",
      // Started by URL (`./event-lines-worker.js` beside the module that starts it).
      "event-lines-worker": "src/evidence/event-lines-worker.ts",
    },
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    chunkNames: "chunk-[hash]",
    logLevel: "warning",
    // Dependencies written as CommonJS call `require` at run time, which ES modules lack.
    banner: {
      js: 'import { createRequire as __assayRequire } from "node:module";\nconst require = __assayRequire(import.meta.url);',
    },
  });
} catch {
  // esbuild has printed every problem with its file:line.
  rmSync(outdir, { recursive: true, force: true });
  process.exit(2);
}
try {
  renameSync(target, old);
} catch (err) {
  if (err.code !== "ENOENT") throw err;
}
renameSync(outdir, target);
rmSync(old, { recursive: true, force: true });
