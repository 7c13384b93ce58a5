import type { ASTNode } from "@marcbachmann/cel-js";

/** Visit the operands (`[name, ...]`) of every function and method call in a cel-js tree. */
export function forEachCall(root: ASTNode, visit: (call: unknown[]) => void): void {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (const n of node) stack.push(n);
      continue;
    }
    if (!isCelNode(node)) continue;
    if ((node.op === "rcall" || node.op === "call") && Array.isArray(node.args)) visit(node.args);
    // Operands are a node (unary operators), a list of nodes, or a mix of names and nodes.
    stack.push(node.args);
  }
}

export function isCelNode(v: unknown): v is { op: string; args: unknown } {
  return (
    typeof v === "object" && v !== null && !Array.isArray(v) && typeof (v as { op?: unknown }).op === "string"
  );
}

/**
 * The engine's message without its source excerpt; an unknown variable is named with `hint`
 * (which variables there are), the commonest mistake.
 */
export function celErrorLine(err: unknown, hint: string): string {
  const message = (err instanceof Error ? err.message : String(err)).split("\n")[0] ?? "";
  const unknown = /^Unknown variable: (\S+)$/.exec(message);
  return unknown ? `unknown variable \`${unknown[1]}\` (${hint})` : message;
}

/** What a CEL program reads of its variables (see celReads). */
export interface CelReads {
  /** The declared variables it names (`tool`, `args`, `context`), sorted. */
  readonly variables: readonly string[];
  /**
   * Whether it may read `context.history` (the session's earlier calls, which change per call):
   * it names that field, or uses `context` other than through a literal field name.
   */
  readonly history: boolean;
}

/**
 * The variables `root` reads, by walking its identifiers. Conservative: a comprehension variable
 * that shadows a declared name counts as that name, and `context` used whole (`size(context)`,
 * `"k" in context`, `context[k]`) counts as reading `history`.
 */
export function celReads(root: ASTNode, declared: readonly string[]): CelReads {
  const names = new Set<string>();
  let history = false;
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const node = stack.pop();
    if (Array.isArray(node)) {
      for (const n of node) stack.push(n);
      continue;
    }
    if (!isCelNode(node)) continue;
    if (node.op === "id" && typeof node.args === "string") {
      if (declared.includes(node.args)) names.add(node.args);
      // Reached only when not under a literal field access (handled below): the whole context.
      if (node.args === "context") history = true;
      continue;
    }
    const field = contextField(node);
    if (field !== undefined) {
      names.add("context");
      if (field === "history") history = true;
      continue;
    }
    stack.push(node.args);
  }
  return { variables: [...names].sort(), history };
}

/** The literal field name of `context.f`, `context.?f` or `context["f"]`; undefined for anything else. */
function contextField(node: { op: string; args: unknown }): string | undefined {
  if (node.op !== "." && node.op !== "?." && node.op !== "[]" && node.op !== "[?]") return undefined;
  const args = node.args;
  if (!Array.isArray(args) || args.length !== 2) return undefined;
  const [target, key] = args as [unknown, unknown];
  if (!isCelNode(target) || target.op !== "id" || target.args !== "context") return undefined;
  if (typeof key === "string" && (node.op === "." || node.op === "?.")) return key;
  if (isCelNode(key) && key.op === "value" && typeof key.args === "string") return key.args;
  return undefined;
}
