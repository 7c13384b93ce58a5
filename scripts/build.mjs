#!/usr/bin/env node
// `npm run build`: tsc's build of src/ (the library), then build-validators.mjs, then
// build-cli.mjs, into dist/. Skipped when dist/ was built from exactly the files it is built
// from now (a sha256 over their names, times and contents, kept in dist/ once a build has
// finished), so that `npm test` and the bench and conformance scripts, which build first so
// that no change under src/ is ever tested against a stale dist/, cost nothing after `npm ci`
// has built (`prepare`). `--force` builds regardless.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const STAMP = join(root, "dist/.build-inputs");
/** What dist/ is made from (the dependencies, bundled into the CLI, through package-lock.json). */
const INPUT_DIRS = ["src", "schemas"];
const INPUT_FILES = [
  "package.json",
  "package-lock.json",
  "tsconfig.json",
  "tsconfig.build.json",
  "scripts/build.mjs",
  "scripts/build-validators.mjs",
  "scripts/build-cli.mjs",
];
/** Present after every finished build; a stamp without them means dist/ was damaged since. */
const OUTPUTS = [
  "dist/index.js",
  "dist/lib/validator-specs.js",
  "dist/validators",
  "dist/cli-bundle/main.js",
];

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    return e.isDirectory() ? files(p) : e.isFile() ? [p] : [];
  });
}

function inputsDigest() {
  const paths = [
    ...INPUT_DIRS.flatMap((d) => files(join(root, d))),
    ...INPUT_FILES.map((f) => join(root, f)).filter((p) => existsSync(p)),
  ]
    .map((p) => relative(root, p).split(sep).join("/"))
    .sort();
  const h = createHash("sha256");
  for (const p of paths) {
    // The modification time too: a file touched since counts as changed, as it does for the
    // tests that compare dist/ with src/ by time (test/gate/helpers.ts).
    const { mtimeMs } = statSync(join(root, p));
    const content = createHash("sha256")
      .update(readFileSync(join(root, p)))
      .digest("hex");
    h.update(`${p}\0${mtimeMs}\0${content}\n`);
  }
  return h.digest("hex");
}

/**
 * tsc writes what src/ has and never removes what it no longer has: a module moved or deleted
 * would stay in dist/ (and in the package) with its old code. Remove every tsc output whose
 * source is gone; the validators and the CLI bundle are rebuilt whole by their own scripts.
 */
function pruneStale() {
  const dist = join(root, "dist");
  for (const p of files(dist)) {
    const rel = relative(dist, p).split(sep).join("/");
    if (
      rel.startsWith("cli-bundle") ||
      rel.startsWith("validators/") ||
      (!rel.includes("/") && !rel.startsWith("index"))
    )
      continue;
    const m = /^(.*?)(\.d\.ts|\.js)(\.map)?$/.exec(rel);
    if (m && !existsSync(join(root, "src", `${m[1]}.ts`))) rmSync(p);
  }
  // Folders left empty by the above.
  const prune = (dir) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) if (e.isDirectory()) prune(join(dir, e.name));
    if (dir !== dist && readdirSync(dir).length === 0) rmSync(dir, { recursive: true });
  };
  prune(dist);
}

function run(args) {
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: "inherit" });
  if (r.status !== 0) process.exit(r.status ?? 2);
}

const digest = inputsDigest();
const current =
  !process.argv.includes("--force") &&
  existsSync(STAMP) &&
  readFileSync(STAMP, "utf8").trim() === digest &&
  OUTPUTS.every((o) => existsSync(join(root, o)));
if (!current) {
  // Removed first: a build that stops half-way leaves no stamp claiming dist/ is current.
  rmSync(STAMP, { force: true });
  run([createRequire(import.meta.url).resolve("typescript/bin/tsc"), "-p", "tsconfig.build.json"]);
  pruneStale();
  run(["scripts/build-validators.mjs"]);
  run(["scripts/build-cli.mjs"]);
  // The inputs as they were when the build started: an edit made meanwhile builds again next time.
  writeFileSync(STAMP, `${digest}\n`);
}
