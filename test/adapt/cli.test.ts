import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

// Spawns bin/assay: run `npm run build` first.
const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PACK = join(ROOT, "examples/adapt/lksg.v1.yaml");
const CTX = join(ROOT, "examples/adapt/context_ok.json");
const assay = (...args: string[]) =>
  spawnSync(process.execPath, [join(ROOT, "bin/assay"), ...args], { encoding: "utf8", cwd: ROOT });

test("assay adapt -o writes the committed plan; --dry-run prints plan and summary, writes nothing", () => {
  const dir = mkdtempSync(join(tmpdir(), "assay-adapt-"));
  const out = join(dir, "plan.json");
  const r = assay("adapt", "--policy", PACK, "--context", CTX, "-o", out);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(
    readFileSync(out, "utf8"),
    readFileSync(join(ROOT, "examples/adapt/plans/context_ok.plan.json"), "utf8"),
  );
  const dry = assay("adapt", "--policy", PACK, "--context", CTX, "--dry-run", "-o", join(dir, "no.json"));
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /plan: 3 active, 5 skipped, cost sum 5 \(basic\)/);
  assert.throws(() => readFileSync(join(dir, "no.json")));
});

test("assay adapt: invalid input exits 2 with one line", () => {
  const dir = mkdtempSync(join(tmpdir(), "assay-adapt-"));
  const w = join(dir, "w.yaml");
  writeFileSync(w, "no_sanction: 2\n");
  const r = assay("adapt", "--policy", PACK, "--context", CTX, "--selector", "weighted", "--weights", w);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /did you mean `no_sanctions`/);
  assert.equal(r.stderr.trim().split("\n").length, 1);
  assert.equal(assay("adapt", "--policy", PACK, "--context", CTX, "--weights", w).status, 2);
});

test("assay policy eval --adaptive prints what it prints without", () => {
  const dir = mkdtempSync(join(tmpdir(), "assay-adapt-"));
  const call = join(dir, "call.json");
  writeFileSync(call, JSON.stringify({ tool: "approve_supplier", arguments: { audit_age_days: 400 } }));
  const ctx = join(ROOT, "examples/adapt/context_high_risk.json");
  const plain = assay("policy", "eval", "-p", PACK, "-c", call, "--context", ctx);
  const adaptive = assay("policy", "eval", "-p", PACK, "-c", call, "--context", ctx, "--adaptive");
  assert.equal(plain.status, 1, plain.stderr);
  assert.equal(adaptive.status, plain.status);
  assert.equal(adaptive.stdout, plain.stdout);
});
