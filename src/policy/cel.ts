import { celEnv, celList, celMap, isCelError, parse, plan } from "@bufbuild/cel";
import { AssayError } from "../lib/errors.js";
import { compileRegex, type Matcher } from "./regex.js";

/** The variables a policy expression sees. */
export const CEL_VARIABLES = ["tool", "args", "context"] as const;
const TYPE_IDENTS = new Set([
  "int",
  "uint",
  "double",
  "bool",
  "string",
  "bytes",
  "list",
  "map",
  "null_type",
  "type",
  "dyn",
]);

/**
 * The variables of one decision in the engine's own list and map form, converted once. The engine
 * would otherwise copy every object into a new map on every access, in every expression.
 */
export function celBindings(tool: string, args: Record<string, unknown>, context: Record<string, unknown>) {
  return { tool, args: toCelValue(args), context: toCelValue(context) };
}

// INVARIANT: arguments were bounded in depth and size before any rule ran (call-shape.ts).
function toCelValue(v: unknown): unknown {
  if (Array.isArray(v)) return celList(v.map(toCelValue) as never[]);
  if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    const m = new Map<string, unknown>();
    for (const k of Object.keys(v)) m.set(k, toCelValue((v as Record<string, unknown>)[k]));
    // JSON values are CEL inputs; the engine's input type is narrower than what it accepts at run time.
    return celMap(m as Map<string, never>);
  }
  return v;
}

/** A planned CEL program: evaluating it never parses or compiles. */
export interface CelProgram {
  readonly source: string;
  run(bindings: Record<string, unknown>): unknown;
}

/**
 * One CEL environment per compiled policy. `matches()` patterns are compiled to RE2 when an
 * expression is compiled; at evaluation the engine's regex hook only looks them up.
 */
export class CelCompiler {
  private readonly regexes = new Map<string, Matcher>();
  private readonly env = celEnv({
    re2: {
      compile: (pattern: string): Matcher => {
        const m = this.regexes.get(pattern);
        if (!m) throw new Error(`regex \`${pattern}\` was not compiled with the policy`);
        return m;
      },
    },
  });

  /** Parse, check and plan `source`; `where` locates it for errors. */
  compile(source: string, where: string, extraVariables: readonly string[] = []): CelProgram {
    let parsed: ReturnType<typeof parse>;
    try {
      parsed = parse(source);
    } catch (err) {
      throw new AssayError(
        "pack_invalid_cel",
        `invalid CEL \`${source}\`: ${(err as Error).message.replace(/^<input>:/, "")}`,
        {
          where,
          cause: err,
        },
      );
    }
    const variables = new Set<string>([...CEL_VARIABLES, ...extraVariables]);
    walk(
      parsed.expr,
      variables,
      (pattern) => {
        if (!this.regexes.has(pattern)) this.regexes.set(pattern, compileRegex(pattern, where));
      },
      source,
      where,
    );
    let program: ReturnType<typeof plan>;
    try {
      program = plan(this.env, parsed);
    } catch (err) {
      throw new AssayError("pack_invalid_cel", `invalid CEL \`${source}\`: ${(err as Error).message}`, {
        where,
        cause: err,
      });
    }
    return Object.freeze({
      source,
      run(bindings: Record<string, unknown>): unknown {
        const out = program(bindings as never);
        if (isCelError(out)) throw new Error(out.message);
        return out;
      },
    });
  }
}

// The parsed AST is a protobuf message; only the shape we walk is typed here.
interface ExprNode {
  exprKind: { case: string | undefined; value?: unknown };
}

function walk(
  root: ExprNode,
  outer: Set<string>,
  onPattern: (p: string) => void,
  source: string,
  where: string,
): void {
  const stack: { node: ExprNode | undefined; scope: Set<string> }[] = [{ node: root, scope: outer }];
  while (stack.length > 0) {
    const { node, scope } = stack.pop() as { node: ExprNode | undefined; scope: Set<string> };
    if (!node) continue;
    const { case: kind, value } = node.exprKind;
    switch (kind) {
      case "identExpr": {
        const name = (value as { name: string }).name;
        if (!scope.has(name) && !TYPE_IDENTS.has(name)) {
          throw new AssayError(
            "pack_invalid_cel",
            `invalid CEL \`${source}\`: unknown variable \`${name}\` (expressions see ${CEL_VARIABLES.map((v) => `\`${v}\``).join(", ")})`,
            { where },
          );
        }
        break;
      }
      case "selectExpr":
        stack.push({ node: (value as { operand: ExprNode }).operand, scope });
        break;
      case "callExpr": {
        const call = value as { function: string; target?: ExprNode; args: ExprNode[] };
        if (call.function === "matches") {
          const pattern = call.args[call.args.length - 1];
          const literal =
            pattern?.exprKind.case === "constExpr"
              ? (pattern.exprKind.value as { constantKind: { case: string; value: unknown } }).constantKind
              : undefined;
          if (literal?.case !== "stringValue") {
            throw new AssayError(
              "pack_invalid_cel",
              `invalid CEL \`${source}\`: matches() needs a string literal pattern, so it can be compiled with the policy`,
              { where },
            );
          }
          onPattern(literal.value as string);
        }
        if (call.target) stack.push({ node: call.target, scope });
        for (const a of call.args) stack.push({ node: a, scope });
        break;
      }
      case "listExpr":
        for (const e of (value as { elements: ExprNode[] }).elements) stack.push({ node: e, scope });
        break;
      case "structExpr":
        for (const e of (value as { entries: { mapKey?: ExprNode; value?: ExprNode }[] }).entries) {
          stack.push({ node: e.mapKey, scope }, { node: e.value, scope });
        }
        break;
      case "comprehensionExpr": {
        const c = value as {
          iterVar: string;
          iterVar2: string;
          accuVar: string;
          iterRange: ExprNode;
          accuInit: ExprNode;
          loopCondition: ExprNode;
          loopStep: ExprNode;
          result: ExprNode;
        };
        const inner = new Set(scope);
        for (const v of [c.iterVar, c.iterVar2, c.accuVar]) if (v) inner.add(v);
        stack.push({ node: c.iterRange, scope }, { node: c.accuInit, scope });
        stack.push({ node: c.loopCondition, scope: inner }, { node: c.loopStep, scope: inner });
        stack.push({ node: c.result, scope: inner });
        break;
      }
      default:
        break;
    }
  }
}
