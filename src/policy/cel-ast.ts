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
