import { type ASTNode, Environment } from "@marcbachmann/cel-js";
import { AssayError } from "../../lib/errors.js";
import { celErrorLine, forEachCall } from "../../policy/cel-ast.js";

/** What an expectation sees: `trace.calls` = the calls of one trial, in order. */
export interface ExpectTrace {
  readonly calls: readonly { readonly tool: string; readonly arguments: Readonly<Record<string, unknown>> }[];
}

/** The result of one expectation on one trace; `error` when it could not be evaluated. */
export type ExpectResult = { pass: true } | { pass: false; error?: string };

/** A checked, compiled scenario expectation: evaluating it never parses or compiles. */
export interface Expectation {
  readonly source: string;
  /** Where it is written (`file:line:col`). */
  readonly where: string;
  evaluate(trace: ExpectTrace): ExpectResult;
}

// One environment, no custom functions: nothing in it depends on the bundle.
const env = new Environment({ unlistedVariablesAreDyn: false }).registerVariable("trace", "map<string, dyn>");

/**
 * Parse, type-check and compile an expectation (a CEL expression over `trace`). `matches()` is
 * refused: the engine's own builds a backtracking RegExp on every call, and a trace is the agent's
 * output. (The policy's CEL binds `matches()` to RE2 instead; that rewrite lives in
 * src/policy/cel.ts and is not exported.)
 */
export function compileExpectation(source: string, where: string): Expectation {
  const fail = (detail: string, cause?: unknown): never => {
    throw new AssayError("bundle_invalid_cel", `invalid CEL \`${source}\`: ${detail}`, {
      where,
      ...(cause === undefined ? {} : { cause }),
    });
  };
  let program: ReturnType<Environment["parse"]>;
  try {
    program = env.parse(source);
  } catch (err) {
    return fail(firstLine(err), err);
  }
  if (callsMatches(program.ast)) {
    fail("matches() is not available in expectations (use startsWith, endsWith or contains)");
  }
  const checked = program.check();
  if (!checked.valid) return fail(firstLine(checked.error));
  if (checked.type !== "bool" && checked.type !== "dyn") {
    return fail(`it gives ${checked.type}, but an expectation must give a bool`);
  }
  return Object.freeze({
    source,
    where,
    evaluate(trace: ExpectTrace): ExpectResult {
      let value: unknown;
      try {
        value = program({ trace });
      } catch (err) {
        return { pass: false, error: firstLine(err) };
      }
      if (value === true) return { pass: true };
      return value === false
        ? { pass: false }
        : { pass: false, error: `it gave ${typeof value}, not a bool` };
    },
  });
}

function firstLine(err: unknown): string {
  return celErrorLine(err, "expectations see `trace`");
}

/** Whether any function or method call in the tree is `matches`. */
function callsMatches(root: ASTNode): boolean {
  let found = false;
  forEachCall(root, (call) => {
    if (call[0] === "matches") found = true;
  });
  return found;
}
