import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, posix, relative } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { dynamicImportsOf, importsOf } from "./import-scanner.js";

const SRC = fileURLToPath(new URL("../src/", import.meta.url));

/**
 * The folders of src/ and what each may import (../shared/ARCHITECTURE.md is the map). Type-only
 * imports count like any other: a type is a dependency on its owner. Folders the next issues add
 * are listed now with their edges, so the first file in them is checked like the rest.
 * `.` is the files at the top of src/ (the library's public API).
 */
/** Every folder but the CLI, lowest first. */
const DOMAINS = [
  "lib",
  "policy",
  "records",
  "adapt",
  "gate",
  "evidence",
  "sim",
  "runner",
  "audit-kit",
  "report",
  "matrix",
  "serve",
];

const ALLOWED: Readonly<Record<string, readonly string[]>> = {
  lib: [],
  policy: ["lib"],
  // The decision record embeds the policy's decision: the contract sits just above policy and
  // below every domain that writes or reads records (gate, evidence, sim).
  records: ["lib", "policy"],
  adapt: ["lib", "policy"],
  gate: ["lib", "policy", "records", "adapt"],
  evidence: ["lib", "records"],
  sim: ["lib", "policy", "records"],
  runner: ["lib", "policy", "records", "evidence"],
  "audit-kit": ["lib", "policy", "records", "evidence", "sim"],
  report: ["lib", "policy", "records", "sim"],
  matrix: ["lib", "policy", "records", "evidence", "sim", "runner", "audit-kit", "report"],
  serve: ["lib", "policy", "records", "adapt", "gate", "evidence"],
  cli: DOMAINS,
  ".": DOMAINS,
};

/** Inside src/sim: statistics, then target bundles, drivers, the soak, readiness (each only the ones before it). */
const SIM_ALLOWED: Readonly<Record<string, readonly string[]>> = {
  stats: [],
  target: ["stats"],
  drivers: ["stats", "target"],
  soak: ["stats", "target", "drivers"],
  readiness: ["stats", "target", "drivers", "soak"],
};

/** Every module under src/, by its path relative to src/ (posix separators). */
function sources(): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ts"))
        out.set(relative(SRC, p).split("\\").join("/"), readFileSync(p, "utf8"));
    }
  };
  walk(SRC);
  return out;
}

/** The folder a module belongs to, at `depth` (0: src's own folders; 1: the folders inside one). */
function folderOf(path: string, depth = 0): string {
  const parts = path.split("/");
  return parts.length > depth + 1 ? (parts[depth] as string) : ".";
}

/**
 * Every import between folders that the tables do not allow, as `from -> to (what)`, plus modules
 * in folders the map does not know.
 */
function forbiddenEdges(files: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [path, text] of files) {
    const from = folderOf(path);
    const allowed = ALLOWED[from];
    if (allowed === undefined) {
      out.push(`src/${path}: folder \`${from}\` is not in the map (test/architecture.test.ts)`);
      continue;
    }
    for (const imp of [...importsOf(text), ...dynamicImportsOf(text)]) {
      if (!imp.specifier.startsWith(".")) continue;
      const target = posix.normalize(posix.join(posix.dirname(path), imp.specifier));
      if (target.startsWith("../")) continue; // outside src/ (package.json, dist/validators): not a domain
      const to = folderOf(target);
      const kind = imp.typeOnly ? "type import" : "import";
      if (to !== from && !allowed.includes(to)) {
        out.push(`src/${path} -> src/${target}: ${from} may not import ${to} (${kind})`);
        continue;
      }
      if (from === "sim" && to === "sim") {
        const a = folderOf(path.slice(4));
        const b = folderOf(target.slice(4));
        const inner = SIM_ALLOWED[a];
        if (inner === undefined) out.push(`src/${path}: sim/${a} is not in the map (SIM_ALLOWED)`);
        else if (a !== b && !inner.includes(b))
          out.push(`src/${path} -> src/${target}: sim/${a} may not import sim/${b} (${kind})`);
      }
    }
  }
  return out.sort();
}

describe("architecture", () => {
  const files = sources();

  test("every import between folders of src/ is an edge the map allows", () => {
    assert.ok(files.size > 100, `read ${files.size} modules`);
    assert.deepEqual(forbiddenEdges(files), []);
  });

  test("an edge the map forbids is reported, type-only and dynamic imports included", () => {
    const withBad = new Map(files);
    withBad.set("evidence/bad.ts", 'import type { SoakReport } from "../sim/soak/report.js";\n');
    withBad.set("policy/bad.ts", 'const g = await import("../gate/gate.js");\n');
    withBad.set("sim/stats/bad.ts", 'import { loadBundle } from "../target/load.js";\n');
    withBad.set("lib/bad.ts", 'export { decide } from "../policy/decide.js";\n');
    withBad.set("planner/x.ts", "export const x = 1;\n");
    assert.deepEqual(forbiddenEdges(withBad), [
      "src/evidence/bad.ts -> src/sim/soak/report.js: evidence may not import sim (type import)",
      "src/lib/bad.ts -> src/policy/decide.js: lib may not import policy (import)",
      "src/planner/x.ts: folder `planner` is not in the map (test/architecture.test.ts)",
      "src/policy/bad.ts -> src/gate/gate.js: policy may not import gate (import)",
      "src/sim/stats/bad.ts -> src/sim/target/load.js: sim/stats may not import sim/target (import)",
    ]);
  });

  test("no domain imports the CLI, and the order has no cycle", () => {
    for (const [folder, allowed] of Object.entries(ALLOWED)) {
      if (folder !== ".") assert.ok(!allowed.includes("cli"), `${folder} may import cli`);
      for (const to of allowed) {
        assert.ok(!(ALLOWED[to] ?? []).includes(folder), `${folder} and ${to} may import each other`);
      }
    }
  });

  test("paths into the package (`../../`) are taken only two levels below it, as dist/cli-bundle/ is", () => {
    // The CLI bundle puts every module at dist/cli-bundle/<chunk>.js: a module deeper than
    // src/<folder>/ that climbs to the package root by its own URL would miss it once bundled.
    for (const [path, text] of files) {
      if (!/import\.meta\.url/.test(text) || !/["'`](\.\.\/){2,}/.test(text)) continue;
      assert.equal(
        dirname(path).split("/").length,
        1,
        `src/${path} climbs to the package root from below src/<folder>/`,
      );
    }
  });
});
