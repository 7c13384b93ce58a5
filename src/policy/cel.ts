import { type ASTNode, Environment, serialize } from "@marcbachmann/cel-js";
import { AssayError } from "../lib/errors.js";
import { type CelReads, celErrorLine, celReads, forEachCall, isCelNode } from "./cel-ast.js";
import { compileRegex, type Matcher } from "./regex.js";

/** The variables a policy expression sees. */
export const CEL_VARIABLES = ["tool", "args", "context"] as const;

/**
 * The variables of one decision. The engine reads plain JSON objects and arrays directly (own
 * properties only), so nothing is converted.
 */
export function celBindings(tool: string, args: Record<string, unknown>, context: Record<string, unknown>) {
  return { tool, args, context };
}

/** A checked, compiled CEL program: evaluating it never parses or compiles. */
export interface CelProgram {
  readonly source: string;
  /** What it reads (found at compile time): the planner keeps a condition that reads the call per call. */
  readonly reads: CelReads;
  /** Reads no variable but `tool`: evaluated once per tool name, then answered from memory. */
  readonly perTool: boolean;
  run(bindings: Record<string, unknown>): unknown;
}

/**
 * The engine's own `matches()` builds a backtracking JS RegExp on every call, and arguments are
 * attacker-controlled. So every `matches()` in a policy expression is rewritten to this function,
 * whose pattern (a string literal, required) was compiled to RE2 with the policy.
 */
const RE2_MATCHES = "assayRe2Matches";

/**
 * One CEL environment per compiled policy (@marcbachmann/cel-js; see docs/architecture.md for why
 * this engine). Expressions are parsed, type-checked against the declared variables, and their
 * `matches()` patterns compiled to RE2 here, once.
 */
export class CelCompiler {
  private readonly regexes = new Map<string, Matcher>();
  private readonly env: Environment;

  constructor() {
    const lookup = (pattern: string): Matcher => {
      const m = this.regexes.get(pattern);
      if (!m) throw new Error(`regex \`${pattern}\` was not compiled with the policy`);
      return m;
    };
    this.env = new Environment({ unlistedVariablesAreDyn: false })
      .registerVariable("tool", "string")
      .registerVariable("args", "map<string, dyn>")
      .registerVariable("context", "map<string, dyn>")
      .registerFunction(`string.${RE2_MATCHES}(string): bool`, (s: string, p: string) => lookup(p).test(s))
      .registerFunction(`${RE2_MATCHES}(string, string): bool`, (s: string, p: string) => lookup(p).test(s));
  }

  /** Parse, check and compile `source`; `where` locates it for errors. */
  compile(source: string, where: string): CelProgram {
    const env = this.env;
    const fail = (detail: string, cause?: unknown): never => {
      throw new AssayError("pack_invalid_cel", `invalid CEL \`${source}\`: ${detail}`, {
        where,
        ...(cause === undefined ? {} : { cause }),
      });
    };
    let parsed: ReturnType<Environment["parse"]>;
    try {
      parsed = env.parse(source);
    } catch (err) {
      return fail(firstLine(err), err);
    }
    const rewritten = rewriteMatches(parsed.ast, (pattern) => {
      if (!this.regexes.has(pattern)) this.regexes.set(pattern, compileRegex(pattern, where));
    });
    if (rewritten === "non-literal") {
      return fail("matches() needs a string literal pattern, so it can be compiled with the policy");
    }
    const text = rewritten ? serialize(parsed.ast) : source;
    let evaluate: ReturnType<Environment["parse"]>;
    try {
      evaluate = rewritten ? env.parse(text) : parsed;
    } catch (err) {
      return fail(firstLine(err), err);
    }
    // The engine's own matches() backtracks: refuse to build a program that could still reach it.
    forEachCall(evaluate.ast, (call) => {
      if (call[0] === "matches") fail("matches() could not be bound to the linear-time engine");
    });
    const checked = evaluate.check();
    if (!checked.valid) return fail(firstLine(checked.error));
    if (checked.type !== "bool" && checked.type !== "dyn") {
      return fail(`it gives ${checked.type}, but a policy expression must give a bool`);
    }
    const reads = Object.freeze(celReads(evaluate.ast, CEL_VARIABLES));
    const run = (bindings: Record<string, unknown>): unknown => evaluate(bindings);
    const perTool = reads.variables.every((v) => v === "tool");
    return Object.freeze({ source, reads, perTool, run: perTool ? byTool(run) : run });
  }
}

/** Tool names whose results one program remembers; past it the memo starts over. */
const MAX_MEMO_TOOLS = 4096;

/**
 * `run` for a program that reads no variable but `tool` (`!(tool in [...])`, a common `when`): its
 * result depends on the tool name alone, so it is evaluated once per name. The evaluation is the
 * costliest part of such a condition, most of all when the gate wakes with cold caches. Only
 * booleans are kept; anything else (an error) is evaluated again each time.
 */
function byTool(run: (bindings: Record<string, unknown>) => unknown) {
  const memo = new Map<unknown, boolean>();
  return (bindings: Record<string, unknown>): unknown => {
    const tool = bindings.tool;
    const known = memo.get(tool);
    if (known !== undefined) return known;
    const result = run(bindings);
    if (typeof result === "boolean") {
      if (memo.size >= MAX_MEMO_TOOLS) memo.clear();
      memo.set(tool, result);
    }
    return result;
  };
}

const VARIABLES_HINT = `expressions see ${CEL_VARIABLES.map((v) => `\`${v}\``).join(", ")}`;

function firstLine(err: unknown): string {
  return celErrorLine(err, VARIABLES_HINT);
}

/**
 * Rename every `matches()` call in `root` to the RE2-backed function, reporting each pattern.
 * Returns whether anything was renamed, or "non-literal" when a pattern is not a string literal.
 */
function rewriteMatches(root: ASTNode, onPattern: (pattern: string) => void): boolean | "non-literal" {
  let renamed = false;
  let nonLiteral = false;
  forEachCall(root, (call) => {
    if (call[0] !== "matches") return;
    const callArgs = call[call.length - 1] as unknown[];
    const pattern = callArgs[callArgs.length - 1];
    if (!isCelNode(pattern) || pattern.op !== "value" || typeof pattern.args !== "string") {
      nonLiteral = true;
      return;
    }
    onPattern(pattern.args);
    call[0] = RE2_MATCHES;
    renamed = true;
  });
  return nonLiteral ? "non-literal" : renamed;
}
