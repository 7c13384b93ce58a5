/**
 * Just enough PromQL reading for the deploy tests: which metric names and label matchers an
 * expression uses, and whether its brackets balance. Not a parser: `promtool check rules` is the
 * parser (test/deploy/promtool.ts); this runs without it and knows our metric names.
 */

type TokenKind = "ident" | "string" | "number" | "duration" | "range" | "punct" | "op";

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
}

/** A metric selector: `name{label op "value", ...}`. */
export interface Selector {
  readonly metric: string;
  readonly matchers: readonly { readonly label: string; readonly op: string; readonly value: string }[];
}

const AGGREGATIONS = new Set([
  "sum",
  "min",
  "max",
  "avg",
  "group",
  "stddev",
  "stdvar",
  "count",
  "count_values",
  "bottomk",
  "topk",
  "quantile",
]);
const KEYWORDS = new Set(["and", "or", "unless", "bool", "offset", "atan2", "inf", "nan", "by", "without"]);
const LABEL_LISTS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right"]);
const OPERATORS = ["=~", "!~", "==", "!=", "<=", ">=", "+", "-", "*", "/", "%", "^", "<", ">", "="];

function unquote(s: string): string {
  const body = s.slice(1, -1);
  return s.startsWith("`") ? body : body.replace(/\\(.)/g, "$1");
}

/** The tokens of `expr`; a range or subquery (`[5m]`, `[1h:1m]`) is one token. Throws on junk. */
export function tokenize(expr: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr.charAt(i);
    if (/\s/.test(c)) {
      i++;
    } else if (c === "#") {
      while (i < expr.length && expr.charAt(i) !== "\n") i++;
    } else if (c === '"' || c === "'" || c === "`") {
      let j = i + 1;
      while (j < expr.length && expr.charAt(j) !== c) j += expr.charAt(j) === "\\" && c !== "`" ? 2 : 1;
      if (j >= expr.length) throw new Error(`unterminated string at ${i}`);
      tokens.push({ kind: "string", text: expr.slice(i, j + 1) });
      i = j + 1;
    } else if (c === "[") {
      const j = expr.indexOf("]", i);
      if (j < 0) throw new Error(`unterminated range at ${i}`);
      tokens.push({ kind: "range", text: expr.slice(i, j + 1) });
      i = j + 1;
    } else if (/[A-Za-z_:]/.test(c)) {
      const m = /^[A-Za-z_:][A-Za-z0-9_:]*/.exec(expr.slice(i));
      const text = m?.[0] ?? c;
      tokens.push({ kind: "ident", text });
      i += text.length;
    } else if (/^[0-9]+(ms|s|m|h|d|w|y)/.test(expr.slice(i))) {
      const m = /^([0-9]+(ms|s|m|h|d|w|y))+/.exec(expr.slice(i));
      const text = m?.[0] ?? c;
      tokens.push({ kind: "duration", text });
      i += text.length;
    } else if (/[0-9.]/.test(c)) {
      const m = /^(0x[0-9a-fA-F]+|[0-9]*\.?[0-9]+(e[+-]?[0-9]+)?)/.exec(expr.slice(i));
      const text = m?.[0] ?? c;
      tokens.push({ kind: "number", text });
      i += text.length;
    } else if ("(){},".includes(c)) {
      tokens.push({ kind: "punct", text: c });
      i++;
    } else {
      const op = OPERATORS.find((o) => expr.startsWith(o, i));
      if (op === undefined) throw new Error(`unexpected \`${c}\` at ${i}`);
      tokens.push({ kind: "op", text: op });
      i += op.length;
    }
  }
  return tokens;
}

/** The metric selectors of `expr`, in order, with their label matchers. */
export function selectors(expr: string): Selector[] {
  const tokens = tokenize(expr);
  const out: Selector[] = [];
  let i = 0;
  while (i < tokens.length) {
    const t = tokens[i] as Token;
    const next = tokens[i + 1];
    if (t.kind === "ident" && LABEL_LISTS.has(t.text) && next?.text === "(") {
      // A label list: `by (namespace, job)`.
      i += 2;
      while (i < tokens.length && tokens[i]?.text !== ")") i++;
      i++;
    } else if (
      t.kind === "ident" &&
      (next?.text === "(" || KEYWORDS.has(t.text) || AGGREGATIONS.has(t.text) || LABEL_LISTS.has(t.text))
    ) {
      i++;
    } else if (t.kind === "ident") {
      const matchers: { label: string; op: string; value: string }[] = [];
      i++;
      if (tokens[i]?.text === "{") {
        i++;
        while (i < tokens.length && tokens[i]?.text !== "}") {
          const label = tokens[i];
          const op = tokens[i + 1];
          const value = tokens[i + 2];
          if (label?.kind !== "ident" || op?.kind !== "op" || value?.kind !== "string") {
            throw new Error(`bad label matcher after \`${t.text}{\``);
          }
          matchers.push({ label: label.text, op: op.text, value: unquote(value.text) });
          i += 3;
          if (tokens[i]?.text === ",") i++;
        }
        i++;
      }
      out.push({ metric: t.text, matchers });
    } else {
      i++;
    }
  }
  return out;
}

/** The metric names `expr` reads, once each. */
export function metricNames(expr: string): string[] {
  return [...new Set(selectors(expr).map((s) => s.metric))];
}

/** Why the brackets of `expr` do not balance (quotes respected), or undefined when they do. */
export function unbalanced(expr: string): string | undefined {
  const pairs: Record<string, string> = { ")": "(", "]": "[", "}": "{" };
  const stack: string[] = [];
  let quote: string | undefined;
  for (let i = 0; i < expr.length; i++) {
    const c = expr.charAt(i);
    if (quote !== undefined) {
      if (c === "\\" && quote !== "`") i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'" || c === "`") {
      quote = c;
    } else if ("([{".includes(c)) {
      stack.push(c);
    } else if (c in pairs) {
      if (stack.pop() !== pairs[c]) return `\`${c}\` at ${i} closes nothing open`;
    }
  }
  if (quote !== undefined) return `unterminated string ${quote}`;
  if (stack.length > 0) return `\`${stack.join("")}\` left open`;
  return undefined;
}
