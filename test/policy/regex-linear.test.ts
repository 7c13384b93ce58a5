import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { RE2JS } from "re2js";
import { compileRegex } from "../../src/policy/regex.js";
import { linearNativeRegex } from "../../src/policy/regex-linear.js";

// Classic catastrophic (exponential) and polynomial patterns: none may reach the native engine.
const SUPER_LINEAR = [
  "^(a+)+$",
  "^(a|a)*$",
  "^(a|aa)+$",
  "^(\\w+\\s?)*$",
  "^(\\d+)*$",
  "^a*a*$",
  "^\\s*\\s*$",
  "^[a-z]*[a-z0-9]*$",
  "^.*a.*b$",
  "^x?[a-z]*$",
  "^(ab|cd)?[a-z]*$",
  "^(a|ab)c*$",
  "^[a-z]+\\.?[a-z]+$",
  "[a-z]+$", // unanchored: every start position rescans the run
  "\\s+$",
  "a.*b",
  "x[a-z]{0,100}y", // unanchored and long: 100 steps from every start
  "^(.*)*$",
  "^(?:a|b)*c$",
  "^[^/]*[^.]*$",
];

// What packs actually write: these run natively.
const LINEAR = [
  "^https?://[^\\s]+$",
  "^[A-Za-z0-9-]{1,64}$",
  "^/workspace/[A-Za-z0-9_./-]*$",
  "^[\\w .,:'?-]*$",
  "\\.(pem|key|env)$",
  "^/workspace/",
  "^[^/]*/[^/]*$",
  "AKIA[0-9A-Z]{16}",
  "^ghp_[A-Za-z0-9]{36}$",
  "xox[baprs]-[A-Za-z0-9-]{10,48}",
  "^(?:read|list)_[a-z_]+$",
  "",
];

describe("linearNativeRegex: which patterns run natively", () => {
  for (const pattern of SUPER_LINEAR)
    test(`stays on RE2: ${pattern}`, () => assert.equal(linearNativeRegex(pattern), undefined));
  for (const pattern of LINEAR)
    test(`native: ${JSON.stringify(pattern)}`, () => assert.ok(linearNativeRegex(pattern) instanceof RegExp));

  test("syntax RE2 and JS read differently stays on RE2", () => {
    for (const pattern of [
      "(?i)abc",
      "[]a]",
      "a{,3}",
      "\\Qa.b\\E",
      "[[:alpha:]]",
      "\\pL",
      "a\\b",
      "\\x41",
      "(?P<n>a)",
    ])
      assert.equal(linearNativeRegex(pattern), undefined, pattern);
  });

  test("RE2 meanings are kept where JS differs: \\s is ASCII, . excludes only \\n", () => {
    const s = linearNativeRegex("^\\s$") as RegExp;
    for (const ch of ["\t", "\n", "\f", "\r", " "]) assert.ok(s.test(ch), JSON.stringify(ch));
    for (const ch of ["\v", "\u00a0", "\u2028", "\ufeff"]) assert.ok(!s.test(ch), JSON.stringify(ch));
    const dot = linearNativeRegex("^.$") as RegExp;
    for (const ch of ["\r", "\u2028", "\u2029", "😀", "\ud800"]) assert.ok(dot.test(ch), JSON.stringify(ch));
    assert.ok(!dot.test("\n"));
    assert.ok(!(linearNativeRegex("^a$") as RegExp).test("a\n"), "$ is the end of the text, as in RE2");
  });

  test("compileRegex decides the same as RE2 on the native path", () => {
    const m = compileRegex("^https?://[^\\s]+$");
    assert.equal(m.toString(), "re2:^https?://[^\\s]+$");
    assert.ok(m.test("https://example.com/a?b=c"));
    assert.ok(!m.test("https://example.com/a b"));
  });
});

// Random patterns over a small alphabet, so that quantified sets and what follows them often
// overlap; random texts over the same alphabet plus the characters where RE2 and JS differ.
const CHARS = ["a", "b", "-", ".", "/", "\n"];
const atom = fc.oneof(
  fc.constantFrom("a", "b", "-", "/", "\\.", "\\n", "\\-", "\\/"),
  fc.constantFrom(".", "\\d", "\\w", "\\s", "\\S", "\\W", "\\D"),
  fc.constantFrom("[ab]", "[^a]", "[a-b]", "[a\\-]", "[-a]", "[\\s/]", "[^\\s]", "[^/.]", "[\\w.]", "[^\\n]"),
);
const quant = fc.constantFrom("", "", "", "*", "+", "?", "{2}", "{1,3}", "{0,2}", "{2,}");
const group = fc.constantFrom(
  "(ab|b)",
  "(?:a|-)",
  "(a|b|/)",
  "(ab)",
  "(?:ba|ab)",
  "(a|b)?",
  "(?:-b)?",
  "(a|ab)",
);
const item = fc.oneof(
  { weight: 4, arbitrary: fc.tuple(atom, quant).map(([a, q]) => a + q) },
  { weight: 1, arbitrary: group },
);
const patternArb = fc
  .tuple(fc.boolean(), fc.array(item, { maxLength: 5 }), fc.boolean())
  .map(([start, items, end]) => `${start ? "^" : ""}${items.join("")}${end ? "$" : ""}`);
const textArb = fc
  .array(
    fc.oneof(
      fc.constantFrom(...CHARS),
      fc.constantFrom("1", "_", " ", "\t", "\r", "\v", "\f", "\u00a0", "\u2028", "😀", "\ud800"),
    ),
    {
      maxLength: 12,
    },
  )
  .map((cs) => cs.join(""));

describe("linearNativeRegex: property", () => {
  test("every pattern it accepts matches exactly what RE2 matches", () => {
    let native = 0;
    fc.assert(
      fc.property(patternArb, fc.array(textArb, { minLength: 1, maxLength: 8 }), (pattern, texts) => {
        let re2: RE2JS;
        try {
          re2 = RE2JS.compile(pattern);
        } catch {
          return;
        }
        const re = linearNativeRegex(pattern);
        if (!re) return;
        native++;
        for (const text of texts)
          assert.equal(re.test(text), re2.test(text), `${pattern} on ${JSON.stringify(text)}`);
      }),
      { numRuns: 4000, seed: 8785 },
    );
    // The property is only worth something if many patterns took the native path.
    assert.ok(native > 800, `only ${native} of 4000 random patterns ran natively`);
  });

  test("no accepted pattern has a quantified set overlapping what may follow it", () => {
    // A mutation check on the proof: take accepted patterns, append an item that overlaps the
    // last quantified set, and the result must be refused (anchored) or stay short (unanchored).
    for (const [ok, bad] of [
      ["^a*$", "^a*a$"],
      ["^[a-z]+-$", "^[a-z]+[-a]$"],
      ["^a?b", "^a?a"],
      ["^(ab|c)?d", "^(ab|c)?c"],
      ["^\\d{1,3}\\.", "^\\d{1,3}\\w"],
    ]) {
      assert.ok(linearNativeRegex(ok as string), ok);
      assert.equal(linearNativeRegex(bad as string), undefined, bad);
    }
  });
});
