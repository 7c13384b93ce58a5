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
   * (`summary.ci_95[0]` in `summary.ci_95[0] >= 0.95`); undefined when the criterion is no comparison.
   */
  found(artifact: Artifact): unknown;
}

const env = new Environment({ unlistedVariablesAreDyn: true });
const COMPARISONS = new Set(["<", "<=", ">", ">=", "==", "!="]);
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** CEL's reserved words cannot be variables: such keys are reached through `artifact`. */
const RESERVED = new Set([
  "true",
  "false",
  "null",
  "in",
  "as",
  "break",
  "const",
  "continue",
  "else",
  "for",
  "function",
  "if",
  "import",
  "let",
  "loop",
  "package",
  "namespace",
  "return",
  "var",
  "void",
  "while",
  "artifact",
  "recorded",
]);

/** Parse `source`; a syntax error is thrown as an Error whose message is one line. */
export function parseCriterion(source: string): Criterion {
  let program: ReturnType<Environment["parse"]>;
  try {
    program = env.parse(source);
  } catch (err) {
    throw new Error(oneLine(err));
  }
  const left = leftOperand(program.ast);
  return Object.freeze({
    source,
    value: (artifact: Artifact) => program(bindings(artifact)),
    found: (artifact: Artifact) => (left ? left(bindings(artifact)) : undefined),
  });
}

function leftOperand(ast: ASTNode): ((b: Record<string, unknown>) => unknown) | undefined {
  if (!isCelNode(ast) || !COMPARISONS.has(ast.op) || !Array.isArray(ast.args)) return undefined;
  const [lhs] = ast.args as ASTNode[];
  if (lhs === undefined) return undefined;
  try {
    return env.parse(serialize(lhs));
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
