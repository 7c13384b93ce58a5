import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { matchAnyToolPattern, matchToolPattern, parseToolPattern } from "../../src/policy/tool-pattern.js";

const matches = (pattern: string, name: string) => matchToolPattern(parseToolPattern(pattern), name);

/** The meaning of a pattern, spelled as a RegExp: every `*` is `.*`, everything else is literal. */
function reference(pattern: string): RegExp {
  const body = pattern
    .split("*")
    .map((part) => part.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&"))
    .join(".*");
  return new RegExp(`^${body}$`, "su");
}

describe("tool patterns", () => {
  test("parse: exact, any and glob", () => {
    assert.deepEqual(parseToolPattern("read_file"), { kind: "exact", source: "read_file" });
    assert.deepEqual(parseToolPattern("*"), { kind: "any", source: "*" });
    assert.deepEqual(parseToolPattern("**"), { kind: "any", source: "**" });
    assert.deepEqual(parseToolPattern("fs_*_write"), {
      kind: "glob",
      source: "fs_*_write",
      parts: ["fs_", "_write"],
    });
  });

  test("an exact name matches only itself", () => {
    assert.equal(matches("read_file", "read_file"), true);
    assert.equal(matches("read_file", "read_files"), false);
    assert.equal(matches("read_file", "Read_file"), false);
    assert.equal(matches("read_file", "read_fil"), false);
    assert.equal(matches("read_file", ""), false);
  });

  test("`*` matches every name, including the empty one", () => {
    for (const name of ["", "x", "read_file", "*", "a b\nc"]) assert.equal(matches("*", name), true);
  });

  test("`prefix*`", () => {
    assert.equal(matches("read_*", "read_file"), true);
    assert.equal(matches("read_*", "read_"), true);
    assert.equal(matches("read_*", "read"), false);
    assert.equal(matches("read_*", "xread_file"), false);
  });

  test("`*suffix`", () => {
    assert.equal(matches("*_write", "fs_write"), true);
    assert.equal(matches("*_write", "_write"), true);
    assert.equal(matches("*_write", "fs_write_x"), false);
    assert.equal(matches("*_write", "write"), false);
  });

  test("`*middle*`", () => {
    assert.equal(matches("*secret*", "read_secret_file"), true);
    assert.equal(matches("*secret*", "secret"), true);
    assert.equal(matches("*secret*", "secre"), false);
    assert.equal(matches("*secret*", "sec_ret"), false);
  });

  test("an interior star needs its prefix and suffix without overlap", () => {
    assert.equal(matches("fs_*_write", "fs_tmp_write"), true);
    assert.equal(matches("fs_*_write", "fs__write"), true);
    assert.equal(matches("fs_*_write", "fs_a_b_write"), true);
    // `fs_` and `_write` would have to share the underscore.
    assert.equal(matches("fs_*_write", "fs_write"), false);
    assert.equal(matches("fs_*_write", "fs_tmp_writer"), false);
    assert.equal(matches("fs_*_write", "xfs_tmp_write"), false);
    assert.equal(matches("aa*aa", "aaa"), false);
    assert.equal(matches("aa*aa", "aaaa"), true);
  });

  test("several stars", () => {
    assert.equal(matches("a*b*c", "abc"), true);
    assert.equal(matches("a*b*c", "aXbYc"), true);
    assert.equal(matches("a*b*c", "acb"), false);
    assert.equal(matches("a*b*c", "abcb"), false);
    assert.equal(matches("*a*b*", "xxbxa"), false);
    assert.equal(matches("*a*b*", "xaxbx"), true);
    assert.equal(matches("a**b", "ab"), true);
    assert.equal(matches("*ab*ab*", "abab"), true);
    assert.equal(matches("*ab*ab*", "aba"), false);
    // The middle part must fit between the prefix and the suffix.
    assert.equal(matches("x*ab*b", "xab"), false);
    assert.equal(matches("x*ab*b", "xabb"), true);
  });

  test("regex metacharacters are literal", () => {
    assert.equal(matches("a.b", "a.b"), true);
    assert.equal(matches("a.b", "axb"), false);
    assert.equal(matches("a+*", "a+b"), true);
    assert.equal(matches("a+*", "aab"), false);
    assert.equal(matches("(x)*", "(x)y"), true);
  });

  test("matchAnyToolPattern returns the first pattern that matches", () => {
    const patterns = ["exec", "shell*", "*"].map(parseToolPattern);
    assert.equal(matchAnyToolPattern(patterns, "shell_run")?.source, "shell*");
    assert.equal(matchAnyToolPattern(patterns, "exec")?.source, "exec");
    assert.equal(matchAnyToolPattern(patterns, "other")?.source, "*");
    assert.equal(matchAnyToolPattern(patterns.slice(0, 2), "other"), undefined);
  });

  test("property: agrees with a RegExp built from the pattern", () => {
    // A small alphabet so that matches are frequent; `.` and `+` check escaping.
    const char = fc.constantFrom("a", "b", "_", ".", "+");
    const pattern = fc.string({ unit: fc.oneof(char, fc.constant("*")), maxLength: 8 });
    const name = fc.string({ unit: char, maxLength: 12 });
    fc.assert(
      fc.property(pattern, name, (p, n) => {
        assert.equal(matches(p, n), reference(p).test(n), `pattern \`${p}\` on \`${n}\``);
      }),
      { numRuns: 5000 },
    );
  });

  test("property: a name built to fit a pattern matches it", () => {
    const part = fc.string({ unit: fc.constantFrom("a", "b", "_"), maxLength: 4 });
    fc.assert(
      fc.property(
        fc.array(part, { minLength: 1, maxLength: 5 }),
        fc.array(part, { maxLength: 5 }),
        (parts, fill) => {
          const p = parts.join("*");
          const n = parts.map((x, i) => (i === 0 ? x : `${fill[i] ?? ""}${x}`)).join("");
          assert.equal(matches(p, n), true, `pattern \`${p}\` on \`${n}\``);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
