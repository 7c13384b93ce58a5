import { type ASTNode, Environment, serialize } from "@marcbachmann/cel-js";
import { celErrorLine, isCelNode } from "../policy/cel-ast.js";
import type { Artifact } from "./artifact.js";

/**
 * A claim's criterion or state signal: CEL over one artifact's JSON, parsed once when the registry
 * loads. The variables are the artifact's top-level keys, `artifact` (the whole document) and
 * `recorded` (the `assay matrix record` envelope, or null); which keys exist depends on the file,
 * so names are checked when it is evaluated. Registry authors write these expressions, not the
 * artifacts' producers, so the engine's own `matches()` is acceptable here (unlike in packs).
 */
export interface Criterion {
  readonly source: string;
  /** The criterion's value against `artifact`; throws when it cannot be evaluated. */
  value(artifact: Artifact): unknown;
  /**
   * The value the criterion compares, for reports: the left operand of a top-level comparison
   * (`summary.ci_95[0]` in `summary.ci_95[0] >= 0.95`), or of each comparison in a top-level
   * `&&` / `||` chain, by source text; undefined when there is no comparison to show.
   */
  found(artifact: Artifact): unknown;
}

const env = new Environment({ unlistedVariablesAreDyn: true });
const COMPARISONS = new Set(["<", "<=", ">", ">=", "==", "!="]);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** CEL's reserved words cannot be variables: such keys are reached through `artifact`. */
const RESERVED = new Set([
  ...["true", "false", "null", "in", "as", "break", "const", "continue", "else", "for", "function"],
  ...["if", "import", "let", "loop", "package", "namespace", "return", "var", "void", "while"],
  ...["artifact", "recorded"],
  // Type names: a variable of that name would shadow the type (`list.all(...)` fails).
  ...["int", "uint", "double", "bool", "string", "bytes", "list", "map", "type", "null_type", "dyn"],
]);

/** Parse `source`; a syntax error is thrown as an Error whose message is one line. */
export function parseCriterion(source: string): Criterion {
  let program: ReturnType<Environment["parse"]>;
  try {
    program = env.parse(source);
  } catch (err) {
    throw new Error(oneLine(err));
  }
  const found = foundOf(program.ast);
  return Object.freeze({
    source,
    value: (artifact: Artifact) => program(bindings(artifact)),
    found: (artifact: Artifact) => (found ? found(bindings(artifact)) : undefined),
  });
}

type Program = (b: Record<string, unknown>) => unknown;

/**
 * What `found` reports. A comparison at the top: its left operand's value. Comparisons joined by
 * `&&` / `||` at the top: each left operand's value by its source text
 * (`{"ratio_vs_cedar": 14.29, "p50_us": 5.49}`), so a compound criterion still shows what it read.
 */
function foundOf(ast: ASTNode): ((b: Record<string, unknown>) => unknown) | undefined {
  const single = leftOperand(ast);
  if (single !== undefined) return single.program;
  const parts: { source: string; program: Program }[] = [];
  const walk = (node: unknown): void => {
    if (!isCelNode(node)) return;
    if ((node.op === "&&" || node.op === "||") && Array.isArray(node.args)) {
      for (const a of node.args) walk(a);
      return;
    }
    const left = leftOperand(node as ASTNode);
    if (left !== undefined && !parts.some((p) => p.source === left.source)) parts.push(left);
  };
  walk(ast);
  if (parts.length === 0) return undefined;
  return (b) => {
    const out: Record<string, unknown> = {};
    for (const p of parts) {
      try {
        out[p.source] = p.program(b);
      } catch {
        // An operand that cannot be read is left out; the criterion's own evaluation says why.
      }
    }
    return out;
  };
}

function leftOperand(ast: ASTNode): { source: string; program: Program } | undefined {
  if (!isCelNode(ast) || !COMPARISONS.has(ast.op) || !Array.isArray(ast.args)) return undefined;
  const [lhs] = ast.args as ASTNode[];
  if (lhs === undefined) return undefined;
  try {
    const source = serialize(lhs);
    return { source, program: env.parse(source) };
  } catch {
    return undefined;
  }
}

const cache = new WeakMap<Artifact, Record<string, unknown>>();

function bindings(artifact: Artifact): Record<string, unknown> {
  let b = cache.get(artifact);
  if (b === undefined) {
    b = { artifact: artifact.data, recorded: artifact.recorded };
    for (const [k, v] of Object.entries(artifact.data)) if (IDENTIFIER.test(k) && !RESERVED.has(k)) b[k] = v;
    cache.set(artifact, b);
  }
  return b;
}

/** The engine's first line, unknown variables named with what there is to read. */
export function oneLine(err: unknown): string {
  return celErrorLine(err, "criteria see the artifact's top-level keys, `artifact` and `recorded`");
}

/** A CEL value as JSON for reports (CEL integers are BigInt; maps may be Map). */
export function celToJson(v: unknown): unknown {
  if (typeof v === "bigint") return Number(v);
  if (Array.isArray(v)) return v.map(celToJson);
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), celToJson(x)]));
  if (v instanceof Uint8Array) return Buffer.from(v).toString("base64");
  if (v !== null && typeof v === "object") {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, celToJson(x)]));
  }
  if (typeof v === "number" && !Number.isFinite(v)) return String(v);
  return v === undefined ? null : v;
}
