import { compileAcceptedRegex, compileRegex, type Matcher } from "./regex.js";

const MAX_CACHED_MATCHERS = 4096;

/** Matchers by pattern: ajv asks again for every place a `$ref` inlines the same pattern. */
function memoized(compile: (pattern: string) => Matcher): (pattern: string, flags: string) => Matcher {
  const matchers = new Map<string, Matcher>();
  return (pattern) => {
    let m = matchers.get(pattern);
    if (m === undefined) {
      m = compile(pattern);
      // Matchers hold no state, so sharing them is safe; the bound keeps a long-lived process small.
      if (matchers.size >= MAX_CACHED_MATCHERS) matchers.clear();
      matchers.set(pattern, m);
    }
    return m;
  };
}

/**
 * ajv's regex hook for `args` schemas: RE2 semantics, so schema `pattern`s cannot backtrack on
 * hostile arguments. The code ajv generates calls it by the name in `code`.
 */
export const re2Engine = Object.assign(memoized(compileRegex), { code: "re2Engine" });

/**
 * The same hook for validators in the pack cache, whose patterns this build accepted when it
 * wrote them: the same matchers, without RE2 checking each pattern again (see compileAcceptedRegex).
 */
export const acceptedRe2Engine = memoized(compileAcceptedRegex);
