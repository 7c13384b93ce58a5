import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import fc from "fast-check";
import { runnerCapture } from "../../src/cli/actions/runner.js";
import { soak } from "../../src/cli/actions/sim.js";
import { integerOption, positiveNumberOption, secondsAsMsOption } from "../../src/cli/options.js";
import { ROOT } from "../run-assay.js";
import { tempDir } from "../temp-dir.js";

// Number() reads most of these as a number (`""` as 0); a flag takes none of them.
const NOT_PLAIN = [
  "0x10",
  "1e3",
  "0b11",
  "0o7",
  " 5 ",
  "5 ",
  "\t5",
  "+5",
  "-5",
  "-0",
  "Infinity",
  "NaN",
  "",
  "1_000",
];

const digits = fc.string({ unit: fc.constantFrom(..."0123456789"), minLength: 1, maxLength: 20 });
/** One character that is not an ASCII digit (nor a `.`, which decimals may hold once). */
const nonDigit = fc
  .oneof(fc.string({ unit: "binary", minLength: 1, maxLength: 1 }), fc.constantFrom(..."exob_+- \t\n٣"))
  .filter((c) => !/[0-9.]/.test(c));

const usage = (message: string) => ({ code: "usage", message });

describe("integerOption", () => {
  test("a safe integer written in decimal digits is itself, leading zeros and all", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.nat(3), (n, zeros) => {
        assert.equal(integerOption("--n", `${"0".repeat(zeros)}${n}`, 0), n);
      }),
    );
  });

  test("anything with a character other than a digit is refused", () => {
    fc.assert(
      fc.property(fc.tuple(fc.string(), nonDigit, fc.string()), ([a, c, b]) => {
        assert.throws(() => integerOption("--n", `${a}${c}${b}`, 0), { code: "usage" });
      }),
    );
    for (const raw of [...NOT_PLAIN, "1.0", "1."]) {
      assert.throws(
        () => integerOption("--n", raw, 0),
        usage(`--n must be an integer of at least 0, got \`${raw}\``),
      );
    }
  });

  test("below min, above max and past 2^53 − 1: one line naming the flag and the input", () => {
    assert.throws(
      () => integerOption("--iterations", "0x10", 1),
      usage("--iterations must be a positive integer, got `0x10`"),
    );
    assert.throws(
      () => integerOption("--iterations", "0", 1),
      usage("--iterations must be a positive integer, got `0`"),
    );
    assert.throws(() => integerOption("--max-frame-bytes", "10", 1024), {
      message: "--max-frame-bytes must be an integer of at least 1024, got `10`",
    });
    assert.equal(integerOption("--concurrency", "256", 1, 256), 256);
    assert.throws(
      () => integerOption("--concurrency", "257", 1, 256),
      usage("--concurrency must be at most 256, got `257`"),
    );
    assert.equal(integerOption("--n", "9007199254740991", 1), Number.MAX_SAFE_INTEGER);
    for (const raw of ["9007199254740992", "9007199254740993", "1".repeat(400)]) {
      assert.throws(
        () => integerOption("--n", raw, 1),
        usage(`--n must be at most 9007199254740991, got \`${raw}\``),
      );
    }
  });
});

describe("positiveNumberOption", () => {
  test("digits with an optional fractional part are the number they spell", () => {
    fc.assert(
      fc.property(digits, fc.option(digits), (whole, fraction) => {
        const raw = fraction === null ? whole : `${whole}.${fraction}`;
        const n = Number(raw);
        fc.pre(n > 0 && n <= Number.MAX_SAFE_INTEGER);
        assert.equal(positiveNumberOption("--x", raw), n);
      }),
    );
  });

  test("anything else is refused: exponents, hex, signs, Infinity, spaces, a bare or trailing point", () => {
    fc.assert(
      fc.property(digits, nonDigit, fc.option(digits), (whole, c, rest) => {
        assert.throws(() => positiveNumberOption("--x", `${whole}${c}${rest ?? ""}`), { code: "usage" });
      }),
    );
    for (const raw of [...NOT_PLAIN, ".", "1..2", "1.2.3", "0", "0.000", ".0", "0."]) {
      assert.throws(
        () => positiveNumberOption("--time-budget", raw),
        usage(`--time-budget must be a positive number, got \`${raw}\``),
      );
    }
  });

  test("a point with digits on one side only reads as Number() always read it", () => {
    assert.equal(positiveNumberOption("--time-budget", ".5"), 0.5);
    assert.equal(positiveNumberOption("--time-budget", "5."), 5);
  });

  test("past max (2^53 − 1 unless told) is refused rather than overflowing downstream", () => {
    const huge = `1${"0".repeat(300)}`;
    assert.throws(
      () => positiveNumberOption("--time-budget", huge),
      usage(`--time-budget must be at most 9007199254740991, got \`${huge}\``),
    );
    assert.equal(positiveNumberOption("--x", "2.5", 2.5), 2.5);
    assert.throws(
      () => positiveNumberOption("--x", "2.51", 2.5),
      usage("--x must be at most 2.5, got `2.51`"),
    );
  });
});

describe("secondsAsMsOption", () => {
  const MAX = 2 ** 31 - 1;

  test("whole milliseconds, rounded up from the digits: a positive timeout is never 0 ms", () => {
    const cases: Array<[string, number]> = [
      ["0.0001", 1],
      ["0.001", 1],
      ["0.0010", 1],
      ["0.0011", 2],
      ["1", 1000],
      ["1.1", 1100],
      ["2.25", 2250],
      ["1.0000000000000000000001", 1001],
      ["2147483.647", MAX],
      [".5", 500],
      ["5.", 5000],
    ];
    for (const [raw, ms] of cases) assert.equal(secondsAsMsOption("--timeout", raw, MAX), ms, raw);
  });

  test("n ms written as seconds is n ms; any further non-zero digit adds one", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: MAX - 1 }), digits, (ms, more) => {
        const raw = `${Math.floor(ms / 1000)}.${String(ms % 1000).padStart(3, "0")}`;
        assert.equal(secondsAsMsOption("--timeout", `${raw}${more}`, MAX), /[1-9]/.test(more) ? ms + 1 : ms);
      }),
    );
  });

  test("zero, non-decimal forms and more than max are refused with the flag's wording", () => {
    for (const raw of [...NOT_PLAIN, "soon", ".", "0", "0.0000", ".0", "0."]) {
      assert.throws(
        () => secondsAsMsOption("--timeout", raw, MAX),
        usage(`--timeout must be a positive number of seconds, got \`${raw}\``),
      );
    }
    for (const raw of ["2147483.6471", "3000000", "9".repeat(400)]) {
      assert.throws(
        () => secondsAsMsOption("--timeout", raw, MAX),
        usage(`--timeout must be at most 2147483 seconds, got \`${raw}\``),
      );
    }
  });
});

describe("the commands parse their numbers here", () => {
  const target = join(ROOT, "examples/demo-agent");

  test("sim soak: --iterations, --trial-limit, --concurrency and --time-budget take plain decimals only", async () => {
    const ok = { target, seed: "1", iterations: "2" };
    const cases: Array<[Partial<Parameters<typeof soak>[0]>, string]> = [
      [{ iterations: "0x10" }, "--iterations must be a positive integer, got `0x10`"],
      [{ iterations: "1e3" }, "--iterations must be a positive integer, got `1e3`"],
      [{ trialLimit: " 5 " }, "--trial-limit must be a positive integer, got ` 5 `"],
      [{ concurrency: "0b11" }, "--concurrency must be a positive integer, got `0b11`"],
      [{ concurrency: "300" }, "--concurrency must be at most 256, got `300`"],
      [{ timeBudget: "1e300" }, "--time-budget must be a positive number, got `1e300`"],
    ];
    for (const [bad, message] of cases) {
      await assert.rejects(soak({ ...ok, ...bad }, false), usage(message));
    }
  });

  test("runner capture: --timeout in plain decimal seconds, refused before anything runs", async (t) => {
    const opts = {
      out: join(tempDir("assay-options-", t), "capture.tar.gz"),
      kernel: "off",
      agentShim: "x",
      drainMs: "100",
    } as const;
    await assert.rejects(
      runnerCapture(["true"], { ...opts, timeout: "1e3" }),
      usage("--timeout must be a positive number of seconds, got `1e3`"),
    );
    await assert.rejects(
      runnerCapture(["true"], { ...opts, drainMs: "0x10" }),
      usage("--drain-ms must be an integer of at least 0, got `0x10`"),
    );
  });
});
