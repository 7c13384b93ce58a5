import { RE2JS } from "re2js";
import { AssayError } from "../lib/errors.js";
import { linearNativeRegex } from "./regex-linear.js";
import { holdsAny, requiredLiterals } from "./regex-literals.js";

/** A compiled, linear-time matcher. Arguments are attacker-controlled, so no backtracking engine runs on them. */
export interface Matcher {
  test(text: string): boolean;
  toString(): string;
}

/**
 * Compile a pattern with RE2 semantics; backreferences and lookaround are refused (they need
 * backtracking). Patterns proven linear-time run on V8's faster engine, with RE2's meaning.
 */
export function compileRegex(pattern: string, where?: string): Matcher {
  try {
    const re = RE2JS.compile(pattern);
    const native = linearNativeRegex(pattern);
    if (native) return nativeMatcher(pattern, native);
    // RE2 runs only on texts that hold one of the strings every match holds, when there are such.
    const needles = requiredLiterals(pattern);
    if (needles) {
      return {
        test: (text: string) => holdsAny(text, needles) && re.test(text),
        toString: () => matcherName(pattern),
      };
    }
    return { test: (text: string) => re.test(text), toString: () => matcherName(pattern) };
  } catch (err) {
    const reason = (err as Error).message;
    const unsafe =
      /\(\?[=!<]|\\[1-9]|lookahead|lookbehind|backreference|invalid escape|invalid or unsupported Perl syntax/i.test(
        `${pattern} ${reason}`,
      );
    throw new AssayError(
      unsafe ? "pack_unsafe_regex" : "pack_invalid_pattern",
      unsafe
        ? `regex \`${pattern}\` needs backtracking (lookaround or backreference), which the linear-time engine refuses: ${reason}`
        : `invalid regex \`${pattern}\`: ${reason}`,
      { ...(where ? { where } : {}), cause: err },
    );
  }
}

/**
 * The matcher compileRegex gives for a pattern it has accepted before (the pack cache's
 * validators, compiled by this same build): V8's engine where it has the same meaning, without
 * RE2 checking the pattern again; RE2 otherwise.
 */
export function compileAcceptedRegex(pattern: string): Matcher {
  const native = linearNativeRegex(pattern);
  return native ? nativeMatcher(pattern, native) : compileRegex(pattern);
}

function nativeMatcher(pattern: string, native: RegExp): Matcher {
  return { test: (text: string) => native.test(text), toString: () => matcherName(pattern) };
}

/** ajv caches compiled patterns by `toString()`: it must be unique per pattern. */
function matcherName(pattern: string): string {
  return `re2:${pattern}`;
}
