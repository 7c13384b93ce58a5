import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { RE2JS } from "re2js";
import { compileRegex } from "../../src/policy/regex.js";
import { holdsAny, requiredLiterals } from "../../src/policy/regex-literals.js";

const SECRETS =
  "\\b(AKIA|ASIA)[0-9A-Z]{16}\\b|-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----|gh[pousr]_[A-Za-z0-9]{36}|github_pat_[A-Za-z0-9_]{22,}|xox[baprs]-[A-Za-z0-9-]{10,}|\\beyJ[A-Za-z0-9_-]{10,}\\.eyJ[A-Za-z0-9_-]{10,}\\.[A-Za-z0-9_-]*";

/** Patterns of RE2 syntax over a small alphabet, so that random texts match them often. */
const pattern: fc.Arbitrary<string> = fc.letrec((tie) => ({
  atom: fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom("a", "b", "c", "-", " ", "\\.", "\\-", "\\n") },
    fc.constantFrom("[ab]", "[^a]", "[a-c]", "[]a]", "[\\]b]", ".", "\\d", "\\w", "\\s"),
    fc.constantFrom("^", "$", "\\b", "\\B", "\\A", "\\z"),
    // Syntax the analysis does not read: it must give up, never guess.
    fc.constantFrom("(?i)a", "(?s:.)", "\\x61", "\\pL", "[[:alpha:]]", "\\Qa.\\E", "a{,2}"),
    tie("group"),
  ),
  group: fc
    .tuple(fc.constantFrom("(", "(?:", "(?P<n>", "(?<m>"), tie("alternation"))
    .map(([open, body]) => `${open}${body})`),
  item: fc
    .tuple(
      tie("atom"),
      fc.constantFrom("", "", "", "*", "+", "?", "{1}", "{0,2}", "{2,}", "{1,3}", "*?", "+?", "??"),
    )
    .map(([a, q]) => `${a}${q}`),
  concatenation: fc.array(tie("item"), { minLength: 0, maxLength: 4 }).map((items) => items.join("")),
  alternation: fc
    .array(tie("concatenation"), { minLength: 1, maxLength: 3 })
    .map((branches) => branches.join("|")),
})).alternation as fc.Arbitrary<string>;

const text = fc
  .array(fc.constantFrom("a", "b", "c", "-", ".", " ", "\n", "1", "A"), { maxLength: 12 })
  .map((chars) => chars.join(""));

describe("literals every match of a pattern holds", () => {
  test("mcp-baseline's credentials pattern: a text without its prefixes is not run through RE2", () => {
    assert.deepEqual(requiredLiterals(SECRETS), [
      "AKIA",
      "ASIA",
      "-----BEGIN ",
      "gh",
      "github_pat_",
      "xox",
      ".eyJ",
    ]);
    const m = compileRegex(SECRETS);
    assert.equal(m.test("hello 123"), false);
    assert.equal(m.test(`key AKIA${"A".repeat(16)} here`), true);
    assert.equal(m.test(`ghp_${"a".repeat(36)}`), true);
    assert.equal(m.test(`eyJ${"a".repeat(10)}.eyJ${"b".repeat(10)}.c`), true);
    assert.equal(m.test("-----BEGIN RSA PRIVATE KEY-----"), true);
    assert.equal(m.test("AKIA but too short"), false);
  });

  test("what the analysis cannot read gives no literals", () => {
    for (const p of [
      "(?i)akia",
      "(?s)^/workspace(/.*)?$",
      "\\x41KIA",
      "[[:alpha:]]x",
      "a|",
      "a*",
      "(a|)",
      "\\pLx",
    ])
      assert.equal(requiredLiterals(p), undefined, p);
    assert.deepEqual(requiredLiterals("(^|[/\\\\])\\.\\.([/\\\\]|$)"), [".."]);
    assert.deepEqual(requiredLiterals("ab+c?d"), ["a"]);
    assert.deepEqual(requiredLiterals("x(?:foo|bar)+y"), ["foo", "bar"]);
    // Not a name: lookbehind syntax, which RE2 refuses unless asked, is never read as a group.
    assert.equal(requiredLiterals("(?<!x>abc)def"), undefined);
    assert.equal(requiredLiterals("(?<=x>abc)def"), undefined);
    assert.deepEqual(requiredLiterals("(?<n1>abc)de"), ["abc"]);
  });

  test("nesting RE2 takes is not refused for the analysis's sake", () => {
    // RE2 bounds capturing groups, not `(?:` ones: thousands of levels compile, and must still.
    const deep = `${"(?:".repeat(3000)}ab${")".repeat(3000)}`;
    assert.equal(requiredLiterals(deep), undefined);
    assert.equal(compileRegex(deep).test("xaby"), true);
    assert.equal(compileRegex(deep).test("xa"), false);
    assert.deepEqual(requiredLiterals(`${"(?:".repeat(64)}ab${")".repeat(64)}`), ["ab"]);
  });

  test("property: a text RE2 matches always holds one of the pattern's literals", () => {
    let withLiterals = 0;
    let matched = 0;
    fc.assert(
      fc.property(pattern, fc.array(text, { minLength: 20, maxLength: 20 }), (p, texts) => {
        let re: RE2JS;
        try {
          re = RE2JS.compile(p);
        } catch {
          return; // not RE2 syntax: compileRegex refuses it before any analysis
        }
        const needles = requiredLiterals(p);
        const matcher = compileRegex(p);
        if (needles) withLiterals++;
        for (const t of texts) {
          const want = re.test(t);
          if (want && needles) {
            matched++;
            assert.ok(
              holdsAny(t, needles),
              `${JSON.stringify(p)} matches ${JSON.stringify(t)} without ${JSON.stringify(needles)}`,
            );
          }
          assert.equal(matcher.test(t), want, `${JSON.stringify(p)} on ${JSON.stringify(t)}`);
        }
      }),
      { numRuns: 10000 },
    );
    // Not vacuous: many patterns had literals, and many texts matched one of those.
    assert.ok(withLiterals > 1000, `${withLiterals} patterns with literals`);
    assert.ok(matched > 1000, `${matched} matches checked`);
  });
});
