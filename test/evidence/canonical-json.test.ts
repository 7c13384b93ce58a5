import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import fc from "fast-check";
import { scanCanonical } from "../../src/evidence/canonical-scan.js";
import { canonicalizeText } from "../../src/evidence/canonicalize-text.js";
import { canonicalJson } from "../../src/lib/canonical-json.js";
import { AssayError } from "../../src/lib/errors.js";
import { double, RFC8785_NUMBERS } from "../lib/rfc8785-numbers.js";
import { ASSAY_BIN } from "../run-assay.js";
import { tempDir } from "../temp-dir.js";

// RFC 8785 §3.2.2: the sample input and its canonical form.
const RFC_SAMPLE = `{
  "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
  "string": "\\u20ac$\\u000F\\u000aA'\\u0042\\u0022\\u005c\\\\\\"\\/",
  "literals": [null, true, false]
}`;
const RFC_SAMPLE_CANONICAL =
  '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}';

// RFC 8785 §3.2.3: property sorting by UTF-16 code units.
const RFC_SORTING = `{
  "\\u20ac": "Euro Sign",
  "\\r": "Carriage Return",
  "\\ufb33": "Hebrew Letter Dalet With Dagesh",
  "1": "One",
  "\\ud83d\\ude00": "Emoji: Grinning Face",
  "\\u0080": "Control",
  "\\u00f6": "Latin Small Letter O With Diaeresis"
}`;
const RFC_SORTING_KEYS = ["\r", "1", "\u0080", "\u00f6", "\u20ac", "\ud83d\ude00", "\ufb33"];

describe("canonical JSON (RFC 8785 vectors)", () => {
  test("§3.2.2 sample: numbers, escaping, literals", () => {
    const { canonical, digest } = canonicalizeText(Buffer.from(RFC_SAMPLE), "sample.json");
    assert.equal(canonical, RFC_SAMPLE_CANONICAL);
    assert.equal(digest, `sha256:${createHash("sha256").update(canonical).digest("hex")}`);
  });

  test("§3.2.3 keys sorted by UTF-16 code units", () => {
    const { canonical } = canonicalizeText(Buffer.from(RFC_SORTING), "sort.json");
    // Object.keys would list the integer-like key "1" first: read the order from the text.
    const at = RFC_SORTING_KEYS.map((k) => canonical.indexOf(JSON.stringify(k)));
    assert.deepEqual(
      [...at].sort((a, b) => a - b),
      at,
    );
    assert.ok(at.every((i) => i > 0));
    assert.ok(canonical.startsWith('{"\\r":"Carriage Return","1":"One","\u0080":"Control"'));
  });

  for (const [bits, text] of RFC8785_NUMBERS)
    test(`Appendix B number ${bits} → ${text}`, () => {
      assert.equal(canonicalJson(double(bits)), text);
      assert.equal(canonicalJson([double(bits)]), `[${text}]`);
    });

  test("non-I-JSON input is refused with its code and position, not canonicalized", () => {
    const code = (text: string) => {
      try {
        canonicalizeText(Buffer.from(text), "in.json");
      } catch (err) {
        assert.ok(err instanceof AssayError);
        return `${err.code} ${err.where}`;
      }
      return "accepted";
    };
    assert.equal(code('{"a":1,"a":2}'), "json_duplicate_key in.json:1:8");
    assert.equal(code('{"\\udead":1}'), "json_lone_surrogate in.json:1:3");
    assert.equal(code("[9007199254740993]"), "json_unsafe_number in.json:1:2");
    assert.equal(code(`${"[".repeat(100)}${"]".repeat(100)}`), "json_too_deep in.json:1:65");
    assert.equal(code("{"), "json_syntax in.json:1:2");
    assert.equal(code("\u00ff").startsWith("json_syntax"), true);
    assert.throws(() => canonicalizeText(Buffer.from([0x22, 0xff, 0x22]), "x"), { code: "input_invalid" });
  });

  test("numbers: rfc8785: integers beyond 2^53 as the doubles they round to; the rest still refused", () => {
    const rfc = (text: string) => canonicalizeText(Buffer.from(text), "in.json", { numbers: "rfc8785" });
    assert.equal(
      rfc('{"b":18446744073709551615,"a":[9007199254740993,-9007199254740993]}').canonical,
      '{"a":[9007199254740992,-9007199254740992],"b":18446744073709552000}',
    );
    assert.equal(rfc(RFC_SAMPLE).canonical, RFC_SAMPLE_CANONICAL);
    assert.throws(() => rfc("[1e400]"), { code: "json_unsafe_number", where: "in.json:1:2" });
    assert.throws(() => rfc('{"a":1,"a":2}'), { code: "json_duplicate_key" });
    assert.throws(() => rfc('["\\udead"]'), { code: "json_lone_surrogate" });
  });
});

describe("canonical scan (the verifier's fast path)", () => {
  test("accepts the canonical form of any I-JSON value, with top-level member spans", () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 6 }), (v) => {
        const text = canonicalJson(v);
        const spans = scanCanonical(text, 64);
        assert.ok(spans, text);
        if (v !== null && typeof v === "object" && !Array.isArray(v))
          for (const [k, [a, b]] of spans)
            assert.equal(text.slice(a, b), canonicalJson((v as Record<string, unknown>)[k]));
      }),
      { numRuns: 1000 },
    );
  });

  test("whatever it accepts is valid JSON that is already canonical", () => {
    const alphabet = fc.constantFrom(
      ...'{}[]:,"\\ 0123456789-+.etruefalsnab\u00e9u',
      "\\u001f",
      "\\n",
      "1e+21",
      '"b"',
      '"a"',
    );
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 20 }), (parts) => {
        const text = parts.join("");
        if (scanCanonical(text, 64) === undefined) return;
        assert.equal(canonicalJson(JSON.parse(text)), text);
      }),
      { numRuns: 5000 },
    );
  });

  test("refuses non-canonical variants of a canonical text", () => {
    for (const t of [
      '{"b":1,"a":2}',
      '{"a":1,"a":1}',
      '{"a": 1}',
      "[1.0]",
      '["\\u0041"]',
      '["\\/"]',
      '["\\u000A"]',
      "[-0]",
      "[1E3]",
      '["\\ud800"]',
    ])
      assert.equal(scanCanonical(t, 64), undefined, t);
    assert.equal(scanCanonical("[[[]]]", 2), undefined);
  });

  test("keys with escapes compare decoded", () => {
    assert.ok(scanCanonical('{"\\n":1,"\\u001f":2,"a":3}', 64));
    assert.equal(scanCanonical('{"\\u001f":1,"\\n":2}', 64), undefined);
  });
});

describe("assay evidence canonicalize (CLI)", () => {
  const run = (args: string[], input?: string) =>
    spawnSync(process.execPath, [ASSAY_BIN, "evidence", "canonicalize", ...args], {
      input,
      encoding: "utf8",
      timeout: 60_000,
    });

  test("prints the canonical form from stdin; --digest its sha256; exit 0", () => {
    const r = run([], RFC_SAMPLE);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, RFC_SAMPLE_CANONICAL);
    const d = run(["--digest", "-"], RFC_SAMPLE);
    assert.equal(d.stdout, `sha256:${createHash("sha256").update(RFC_SAMPLE_CANONICAL).digest("hex")}\n`);
  });

  test("non-I-JSON: one line with file:line:col, exit 2; a missing file: exit 2", () => {
    const r = run([], '{"a":1,\n"a":2}');
    assert.equal(r.status, 2);
    assert.equal(r.stderr, "assay: <stdin>:2:1: duplicate key `a`\n");
    const m = run(["no-such-file.json"]);
    assert.equal(m.status, 2);
    assert.match(m.stderr, /^assay: no-such-file\.json: cannot read JSON: ENOENT\n$/);
  });

  test("--rfc8785-numbers: integers beyond 2^53 canonicalized as doubles; exit 2 only for what has no form", () => {
    const big = '{"n": [9007199254740993, 18446744073709551615]}';
    const refused = run([], big);
    assert.equal(refused.status, 2);
    assert.match(
      refused.stderr,
      /^assay: <stdin>:1:8: integer `9007199254740993` cannot be represented exactly/,
    );
    const r = run(["--rfc8785-numbers"], big);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '{"n":[9007199254740992,18446744073709552000]}');
    const d = run(["--rfc8785-numbers", "--digest", "-"], big);
    assert.equal(d.stdout, `sha256:${createHash("sha256").update(r.stdout).digest("hex")}\n`);
    for (const text of ["[1e400]", '{"a":1,"a":1}', '["\\ud800"]']) {
      const bad = run(["--rfc8785-numbers"], text);
      assert.equal(bad.status, 2, text);
      assert.equal(bad.stdout, "", text);
    }
  });

  test("a file argument; a lone surrogate, an inexact integer and a too-deep document: exit 2, located, no output", (t) => {
    const dir = tempDir("assay-canon-", t);
    const file = (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    };
    const ok = run(["--digest", file("ok.json", RFC_SAMPLE)]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(ok.stdout, `sha256:${createHash("sha256").update(RFC_SAMPLE_CANONICAL).digest("hex")}\n`);
    const cases: [string, string, RegExp][] = [
      ["surrogate.json", '{"a":\n "\\ud800"}', /surrogate\.json:2:3: lone surrogate/],
      ["big.json", '{"n": [1,\n  9007199254740993]}', /big\.json:2:3: integer `9007199254740993`/],
      ["deep.json", `${"[".repeat(65)}${"]".repeat(65)}`, /deep\.json:1:65: /],
    ];
    for (const [name, text, where] of cases) {
      for (const args of [[file(name, text)], ["--digest", join(dir, name)]]) {
        const r = run(args);
        assert.equal(r.status, 2, `${name}: ${r.stdout}`);
        assert.equal(r.stdout, "", name);
        assert.match(r.stderr, where, name);
        assert.equal(r.stderr.split("\n").length, 2, `one line: ${r.stderr}`);
      }
    }
  });
});
