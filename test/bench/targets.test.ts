import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { roundTowardMiss } from "../../bench/stats.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

describe("benchmark targets are judged on figures rounded toward missing them", () => {
  test("a figure just over an upper limit prints over it; one just under a lower limit prints under it", () => {
    assert.equal(roundTowardMiss(1.3049, 2, "max"), 1.31);
    assert.equal(roundTowardMiss(0.8951, 2, "min"), 0.89);
    assert.equal(roundTowardMiss(2.5049, 2, "max"), 2.51);
    assert.equal(roundTowardMiss(25.01, 1, "max"), 25.1);
    // Figures on a step, up to float error, stay there.
    assert.equal(roundTowardMiss(13 / 10, 2, "max"), 1.3);
    assert.equal(roundTowardMiss(0.9, 2, "min"), 0.9);
    assert.equal(roundTowardMiss(66.2, 1, "min"), 66.2);
    assert.equal(roundTowardMiss(-3.21, 1, "max"), -3.2);
  });

  test("never kinder than the figure, and less than one step from it", () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e6, max: 1e6, noNaN: true }),
        fc.integer({ min: 0, max: 3 }),
        (v, digits) => {
          const step = 10 ** -digits;
          const up = roundTowardMiss(v, digits, "max");
          const down = roundTowardMiss(v, digits, "min");
          // Within float error of the figure on the missing side, and short of the next step.
          const tol = 1e-9 * Math.max(1, Math.abs(v));
          assert.ok(up >= v - tol && up - v < step + tol, `max ${v} → ${up}`);
          assert.ok(down <= v + tol && v - down < step + tol, `min ${v} → ${down}`);
          // On a step of `digits` decimals, as printed.
          assert.equal(up, Number(up.toFixed(digits)));
          assert.equal(down, Number(down.toFixed(digits)));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("benchmark arguments", () => {
  const run = (script: string, ...args: string[]) =>
    spawnSync(process.execPath, ["--import", "tsx", script, ...args], { cwd: ROOT, encoding: "utf8" });

  test("bench:gate refuses an argument it does not know with exit 2 instead of ignoring it", () => {
    const r = run("bench/gate.ts", "--jsno");
    assert.equal(r.status, 2);
    assert.deepEqual(r.stderr.trim().split("\n"), [
      "bench:gate: unknown argument `--jsno`",
      "usage: npm run bench:gate -- [--json] [--cpu-prof]",
    ]);
    assert.equal(r.stdout, "");
  });

  test("bench:startup bounds --runs and says when its value is missing", () => {
    for (const [args, message] of [
      [["--runs", "1001"], "--runs takes an integer from 7 to 1000, got `1001`"],
      [["--runs=6"], "--runs takes an integer from 7 to 1000, got `6`"],
      [["--runs"], "--runs takes an integer from 7 to 1000, got nothing"],
    ] as const) {
      const r = run("bench/startup.ts", ...args);
      assert.equal(r.status, 2, args.join(" "));
      assert.equal(r.stderr.trim().split("\n")[0], `bench:startup: ${message}`);
      assert.equal(r.stdout, "");
    }
  });
});
