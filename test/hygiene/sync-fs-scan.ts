/**
 * Finds synchronous node:fs calls in code that runs on the event loop after startup: inside an
 * async function, inside a callback, or in a function of the same file such code calls. The
 * test that uses it keeps blocking file I/O off the runner's, the drivers' and the gate's async
 * paths (ARCHITECTURE.md: nothing on a hot path does synchronous file I/O).
 *
 * What counts, read from the file's syntax alone (no type checker, so a snippet is enough):
 * - a sync function is any `*Sync` export of node:fs, reached through `node:fs` or `fs` (named,
 *   renamed, namespace or default import, `import("node:fs")`, or destructured from one of
 *   those); node:fs/promises is never one. A local binding of the same name shadows it.
 * - a use is any value reference to one (called, stored or passed), not only a call.
 * - a use is reported when it sits inside an async function or a callback, at any depth of
 *   nested functions; when the function is passed as an argument itself (`.then(readFileSync)`);
 *   or when it sits in a plain function that such code calls within the file (`this.m()`, `f()`,
 *   `new C()`, `C.m()`), at any depth.
 * - a callback is a function passed as an argument to a call or `new`: written there (arrow,
 *   function expression, a method of an object literal), or named there (a local function,
 *   `this.method`, either with `.bind`); and a function assigned to an `on*` property
 *   (`transport.onmessage = ...`). A callback that happens to run synchronously (`[].map(...)`)
 *   counts too: which callees call back synchronously is not knowable from syntax (a stream's
 *   `map` does not).
 * Calls across files are not followed: a sync helper exported to an async caller elsewhere is
 * not reported.
 */
import * as fs from "node:fs";
import ts from "typescript";

/** Every synchronous function node:fs exports (`readFileSync`, `writeSync`, ...), as the running Node has them. */
export const FS_SYNC_NAMES: ReadonlySet<string> = new Set(Object.keys(fs).filter((k) => k.endsWith("Sync")));

const FS_MODULES = new Set(["node:fs", "fs"]);

export interface SyncFsUse {
  /** The path given to `scanSyncFs`. */
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** The node:fs function, e.g. `writeSync`. */
  call: string;
  /** The function the use sits in, e.g. `FileDecisionLog.appendSync` or `start > on("data") callback`. */
  fn: string;
  /** Why it counts: the async function or callback it runs in, or how one reaches it. */
  why: string;
}

type Fn =
  | ts.FunctionDeclaration
  | ts.FunctionExpression
  | ts.ArrowFunction
  | ts.MethodDeclaration
  | ts.ConstructorDeclaration
  | ts.GetAccessorDeclaration
  | ts.SetAccessorDeclaration;

/** A node:fs binding: one sync function, or the module itself. */
type Binding = { kind: "fn"; name: string } | { kind: "ns" };

/** Synchronous node:fs uses in a TypeScript module that run in an async function or a callback, in source order. */
export function scanSyncFs(file: string, text: string): SyncFsUse[] {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const bindings = new Map<ts.Identifier, Binding>();
  const fns: Fn[] = [];
  const callbacks = new Map<Fn, string>();
  const handlers = new Map<Fn, string>();
  const passed = new Map<ts.Node, string>();
  const edges = new Map<Fn, Fn[]>();

  for (const st of sf.statements) if (ts.isImportDeclaration(st)) importBindings(st, bindings);

  // One walk collects what the scan needs: fs bindings made by declarations, functions, callbacks, calls.
  const visit = (n: ts.Node): void => {
    if (ts.isVariableDeclaration(n) && n.initializer) declaredBindings(n, n.initializer, bindings);
    if (isFn(n)) fns.push(n);
    if (ts.isCallExpression(n) || ts.isNewExpression(n)) {
      const label = calleeLabel(n);
      for (const arg of n.arguments ?? []) {
        argumentLeaves(arg, (leaf) => {
          if (isFn(leaf)) {
            if (!callbacks.has(leaf)) callbacks.set(leaf, label);
            return;
          }
          const named = ts.isExpression(leaf) ? localFunction(leaf) : undefined;
          if (named && !callbacks.has(named)) callbacks.set(named, label);
          if (fsUse(leaf, bindings)) passed.set(leaf, label);
        });
      }
      const owner = ownerOf(n);
      const callee = calleeFunction(n);
      if (owner && callee) edges.set(owner, [...(edges.get(owner) ?? []), callee]);
    }
    if (
      ts.isBinaryExpression(n) &&
      n.operatorToken.kind === ts.SyntaxKind.EqualsToken &&
      ts.isPropertyAccessExpression(n.left) &&
      /^on[A-Za-z]/.test(n.left.name.text)
    ) {
      const f = strip(n.right);
      if (isFn(f)) handlers.set(f, n.left.name.text);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);

  const contexts = new Map<Fn, string | undefined>();
  /** Why code in `fn` runs on the event loop: its own kind, or that of a function it is nested in. */
  const contextOf = (fn: Fn): string | undefined => {
    if (contexts.has(fn)) return contexts.get(fn);
    let why: string | undefined;
    if (isAsync(fn)) why = `async function \`${nameOf(fn)}\``;
    else if (callbacks.has(fn)) why = `callback passed to \`${callbacks.get(fn)}\``;
    else if (handlers.has(fn)) why = `handler assigned to \`${handlers.get(fn)}\``;
    else {
      const outer = ownerOf(fn);
      why = outer ? contextOf(outer) : undefined;
    }
    contexts.set(fn, why);
    return why;
  };
  const nameOf = (fn: Fn): string => functionName(fn, callbacks);

  const out: SyncFsUse[] = [];
  const report = (node: ts.Node, call: string, owner: Fn | undefined, why: string): void => {
    const { line, character } = sf.getLineAndCharacterOfPosition(node.getStart(sf));
    out.push({
      file,
      line: line + 1,
      column: character + 1,
      call,
      fn: owner ? nameOf(owner) : "<module>",
      why,
    });
  };

  // Uses in plain functions, reported only if async code or a callback reaches them.
  const plain = new Map<Fn, { node: ts.Node; call: string }[]>();
  const findUses = (n: ts.Node): void => {
    const call = fsUse(n, bindings);
    if (call) {
      const owner = ownerOf(n);
      const why = owner ? contextOf(owner) : undefined;
      const passedTo = passed.get(n);
      if (why) report(n, call, owner, `inside ${why}`);
      else if (passedTo) report(n, call, owner, `passed as a callback to \`${passedTo}\``);
      else if (owner) plain.set(owner, [...(plain.get(owner) ?? []), { node: n, call }]);
    }
    ts.forEachChild(n, findUses);
  };
  findUses(sf);

  const reached = new Set<ts.Node>();
  for (const seed of fns) {
    const why = contextOf(seed);
    if (!why) continue;
    const seen = new Set<Fn>([seed]);
    const queue: { fn: Fn; path: string[] }[] = [{ fn: seed, path: [] }];
    for (let item = queue.shift(); item; item = queue.shift()) {
      for (const callee of edges.get(item.fn) ?? []) {
        // Code with a context of its own is reported as such; so is everything it calls, from there.
        if (seen.has(callee) || contextOf(callee)) continue;
        seen.add(callee);
        const path = [...item.path, nameOf(callee)];
        for (const use of plain.get(callee) ?? []) {
          if (reached.has(use.node)) continue;
          reached.add(use.node);
          const via = path.length > 1 ? ` through \`${path.slice(0, -1).join("` > `")}\`` : "";
          report(use.node, use.call, callee, `called from ${why}${via}`);
        }
        queue.push({ fn: callee, path });
      }
    }
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}

function importBindings(st: ts.ImportDeclaration, out: Map<ts.Identifier, Binding>): void {
  if (!ts.isStringLiteral(st.moduleSpecifier) || !FS_MODULES.has(st.moduleSpecifier.text)) return;
  const clause = st.importClause;
  if (!clause || clause.isTypeOnly) return;
  if (clause.name) out.set(clause.name, { kind: "ns" });
  const named = clause.namedBindings;
  if (!named) return;
  if (ts.isNamespaceImport(named)) {
    out.set(named.name, { kind: "ns" });
    return;
  }
  for (const el of named.elements) {
    if (el.isTypeOnly) continue;
    const imported = (el.propertyName ?? el.name).text;
    if (imported === "default") out.set(el.name, { kind: "ns" });
    else if (FS_SYNC_NAMES.has(imported)) out.set(el.name, { kind: "fn", name: imported });
  }
}

/** `const fs = await import("node:fs")`, `const { readFileSync } = fs` and the like. */
function declaredBindings(
  decl: ts.VariableDeclaration,
  init: ts.Expression,
  out: Map<ts.Identifier, Binding>,
): void {
  if (!isFsModule(init, out)) return;
  if (ts.isIdentifier(decl.name)) {
    out.set(decl.name, { kind: "ns" });
    return;
  }
  if (!ts.isObjectBindingPattern(decl.name)) return;
  for (const el of decl.name.elements) {
    if (!ts.isIdentifier(el.name) || el.dotDotDotToken) continue;
    const key = el.propertyName ?? el.name;
    const imported = ts.isIdentifier(key) || ts.isStringLiteral(key) ? key.text : undefined;
    if (imported === "default") out.set(el.name, { kind: "ns" });
    else if (imported && FS_SYNC_NAMES.has(imported)) out.set(el.name, { kind: "fn", name: imported });
  }
}

/** Whether `e` is node:fs itself: a binding of it, or `import("node:fs")` (awaited). */
function isFsModule(e: ts.Expression, bindings: Map<ts.Identifier, Binding>): boolean {
  const x = strip(e);
  if (ts.isIdentifier(x)) return bindingOf(x, bindings)?.kind === "ns";
  if (!ts.isCallExpression(x) || x.expression.kind !== ts.SyntaxKind.ImportKeyword) return false;
  const spec = x.arguments[0];
  return spec !== undefined && ts.isStringLiteralLike(spec) && FS_MODULES.has(spec.text);
}

/** The sync function `n` refers to, if it is a value reference to one. */
function fsUse(n: ts.Node, bindings: Map<ts.Identifier, Binding>): string | undefined {
  if (ts.isIdentifier(n)) {
    const b = bindingOf(n, bindings);
    return b?.kind === "fn" && isValueReference(n) ? b.name : undefined;
  }
  if (ts.isPropertyAccessExpression(n) && ts.isIdentifier(n.name)) {
    return FS_SYNC_NAMES.has(n.name.text) && isFsModule(n.expression, bindings) ? n.name.text : undefined;
  }
  if (ts.isElementAccessExpression(n) && ts.isStringLiteralLike(n.argumentExpression)) {
    const name = n.argumentExpression.text;
    return FS_SYNC_NAMES.has(name) && isFsModule(n.expression, bindings) ? name : undefined;
  }
  return undefined;
}

function bindingOf(id: ts.Identifier, bindings: Map<ts.Identifier, Binding>): Binding | undefined {
  // Most identifiers name no fs binding: skip the scope walk for them.
  if (![...bindings.keys()].some((k) => k.text === id.text)) return undefined;
  const decl = resolve(id);
  return decl ? bindings.get(decl) : undefined;
}

/** Not a declaration's own name, a property name, a label or a type. */
function isValueReference(id: ts.Identifier): boolean {
  const p = id.parent as ts.Node & { name?: ts.Node; propertyName?: ts.Node; label?: ts.Node };
  if (ts.isShorthandPropertyAssignment(p)) return p.name === id;
  if (p.name === id || p.propertyName === id || p.label === id) return false;
  if (ts.isQualifiedName(p) || ts.isImportClause(p) || ts.isNamespaceImport(p)) return false;
  for (let a: ts.Node = p; !ts.isSourceFile(a); a = a.parent) if (ts.isTypeNode(a)) return false;
  return true;
}

/** The identifier that declares `id`'s name in the nearest scope around it; undefined for a global. */
function resolve(id: ts.Identifier): ts.Identifier | undefined {
  for (let scope: ts.Node | undefined = id.parent; scope; scope = scope.parent) {
    const found = namesDeclaredIn(scope).find((d) => d.text === id.text);
    if (found) return found;
  }
  return undefined;
}

/** Names a scope declares itself (`var` hoisting out of nested blocks is not followed). */
function namesDeclaredIn(scope: ts.Node): ts.Identifier[] {
  const out: ts.Identifier[] = [];
  if (
    ts.isSourceFile(scope) ||
    ts.isBlock(scope) ||
    ts.isModuleBlock(scope) ||
    ts.isCaseClause(scope) ||
    ts.isDefaultClause(scope)
  ) {
    for (const st of scope.statements) statementNames(st, out);
  } else if (isFn(scope)) {
    if (ts.isFunctionExpression(scope) && scope.name) out.push(scope.name);
    for (const p of scope.parameters) bindingNames(p.name, out);
  } else if (ts.isForStatement(scope) || ts.isForInStatement(scope) || ts.isForOfStatement(scope)) {
    const init = scope.initializer;
    if (init && ts.isVariableDeclarationList(init))
      for (const d of init.declarations) bindingNames(d.name, out);
  } else if (ts.isCatchClause(scope) && scope.variableDeclaration) {
    bindingNames(scope.variableDeclaration.name, out);
  } else if (ts.isClassExpression(scope) && scope.name) {
    out.push(scope.name);
  }
  return out;
}

function statementNames(st: ts.Statement, out: ts.Identifier[]): void {
  if (ts.isVariableStatement(st)) for (const d of st.declarationList.declarations) bindingNames(d.name, out);
  else if ((ts.isFunctionDeclaration(st) || ts.isClassDeclaration(st)) && st.name) out.push(st.name);
  else if (ts.isEnumDeclaration(st)) out.push(st.name);
  else if (ts.isImportDeclaration(st) && st.importClause && !st.importClause.isTypeOnly) {
    const clause = st.importClause;
    if (clause.name) out.push(clause.name);
    const named = clause.namedBindings;
    if (named && ts.isNamespaceImport(named)) out.push(named.name);
    else if (named) for (const el of named.elements) if (!el.isTypeOnly) out.push(el.name);
  }
}

function bindingNames(name: ts.BindingName, out: ts.Identifier[]): void {
  if (ts.isIdentifier(name)) out.push(name);
  else for (const el of name.elements) if (!ts.isOmittedExpression(el)) bindingNames(el.name, out);
}

function isFn(n: ts.Node): n is Fn {
  return (
    ts.isFunctionDeclaration(n) ||
    ts.isFunctionExpression(n) ||
    ts.isArrowFunction(n) ||
    ts.isMethodDeclaration(n) ||
    ts.isConstructorDeclaration(n) ||
    ts.isGetAccessorDeclaration(n) ||
    ts.isSetAccessorDeclaration(n)
  );
}

function isAsync(fn: Fn): boolean {
  return ts.getModifiers(fn)?.some((m) => m.kind === ts.SyntaxKind.AsyncKeyword) ?? false;
}

/** The innermost function around `n`; undefined at module level (which runs once, at load). */
function ownerOf(n: ts.Node): Fn | undefined {
  for (let a = n.parent; a; a = a.parent) if (isFn(a)) return a;
  return undefined;
}

/** Type-only wrappers, parentheses and `await` around an expression. */
function strip(e: ts.Expression): ts.Expression {
  let x = e;
  while (
    ts.isParenthesizedExpression(x) ||
    ts.isAsExpression(x) ||
    ts.isSatisfiesExpression(x) ||
    ts.isNonNullExpression(x) ||
    ts.isTypeAssertionExpression(x) ||
    ts.isAwaitExpression(x)
  ) {
    x = x.expression;
  }
  return x;
}

/** What an argument hands over to be called later: functions and references inside `.bind`, object and array literals, `?:`, `??`, `||`. */
function argumentLeaves(arg: ts.Expression, visit: (leaf: ts.Node) => void): void {
  const x = strip(arg);
  if (
    ts.isCallExpression(x) &&
    ts.isPropertyAccessExpression(x.expression) &&
    x.expression.name.text === "bind"
  ) {
    argumentLeaves(x.expression.expression, visit);
  } else if (ts.isObjectLiteralExpression(x)) {
    for (const p of x.properties) {
      if (ts.isMethodDeclaration(p)) visit(p);
      else if (ts.isPropertyAssignment(p)) argumentLeaves(p.initializer, visit);
      else if (ts.isShorthandPropertyAssignment(p)) argumentLeaves(p.name, visit);
      else if (ts.isSpreadAssignment(p)) argumentLeaves(p.expression, visit);
    }
  } else if (ts.isArrayLiteralExpression(x)) {
    for (const el of x.elements)
      if (!ts.isSpreadElement(el) && !ts.isOmittedExpression(el)) argumentLeaves(el, visit);
  } else if (ts.isConditionalExpression(x)) {
    argumentLeaves(x.whenTrue, visit);
    argumentLeaves(x.whenFalse, visit);
  } else if (
    ts.isBinaryExpression(x) &&
    (x.operatorToken.kind === ts.SyntaxKind.QuestionQuestionToken ||
      x.operatorToken.kind === ts.SyntaxKind.BarBarToken)
  ) {
    argumentLeaves(x.left, visit);
    argumentLeaves(x.right, visit);
  } else {
    visit(x);
  }
}

/** The function of this file an expression names: a local function, `this.method`, `Class.staticMethod`. */
function localFunction(e: ts.Expression): Fn | undefined {
  const x = strip(e);
  if (ts.isIdentifier(x)) {
    const decl = resolve(x)?.parent;
    if (decl && ts.isFunctionDeclaration(decl) && decl.body) return decl;
    if (decl && ts.isVariableDeclaration(decl) && decl.initializer) {
      const init = strip(decl.initializer);
      return isFn(init) ? init : undefined;
    }
    return undefined;
  }
  if (!ts.isPropertyAccessExpression(x) || !ts.isIdentifier(x.name)) return undefined;
  if (x.expression.kind === ts.SyntaxKind.ThisKeyword) return member(enclosingClass(x), x.name.text);
  if (ts.isIdentifier(x.expression)) {
    const decl = resolve(x.expression)?.parent;
    if (decl && ts.isClassDeclaration(decl)) return member(decl, x.name.text);
  }
  return undefined;
}

function calleeFunction(call: ts.CallExpression | ts.NewExpression): Fn | undefined {
  if (ts.isCallExpression(call)) return localFunction(call.expression);
  const target = strip(call.expression);
  if (!ts.isIdentifier(target)) return undefined;
  const decl = resolve(target)?.parent;
  if (!decl || !ts.isClassDeclaration(decl)) return undefined;
  return decl.members.find((m): m is ts.ConstructorDeclaration => ts.isConstructorDeclaration(m) && !!m.body);
}

function enclosingClass(n: ts.Node): ts.ClassLikeDeclaration | undefined {
  for (let a = n.parent; a; a = a.parent) if (ts.isClassDeclaration(a) || ts.isClassExpression(a)) return a;
  return undefined;
}

/** A method of `cls`, or a property initialized with a function (`private onExit = () => ...`). */
function member(cls: ts.ClassLikeDeclaration | undefined, name: string): Fn | undefined {
  for (const m of cls?.members ?? []) {
    if (!m.name || !ts.isIdentifier(m.name) || m.name.text !== name) continue;
    if (ts.isMethodDeclaration(m) && m.body) return m;
    if (ts.isPropertyDeclaration(m) && m.initializer) {
      const init = strip(m.initializer);
      if (isFn(init)) return init;
    }
  }
  return undefined;
}

/** `setTimeout`, `then`, `on("data")`, `new Promise`: how a callback's receiver reads in a report. */
function calleeLabel(call: ts.CallExpression | ts.NewExpression): string {
  const target = strip(call.expression);
  let name = ts.isPropertyAccessExpression(target)
    ? target.name.text
    : ts.isIdentifier(target)
      ? target.text
      : "call";
  if (ts.isNewExpression(call)) name = `new ${name}`;
  const first = call.arguments?.[0];
  return first && ts.isStringLiteralLike(first) ? `${name}(${JSON.stringify(first.text)})` : name;
}

/** `Class.method`, `name`, or for an anonymous function the path to it (`start > on("data") callback`). */
function functionName(fn: Fn, callbacks: ReadonlyMap<Fn, string>): string {
  const outer = ownerOf(fn);
  const within = (own: string) => (outer ? `${functionName(outer, callbacks)} > ${own}` : own);
  const p = fn.parent;
  if (ts.isFunctionDeclaration(fn) || ts.isFunctionExpression(fn)) {
    if (fn.name) return within(fn.name.text);
  }
  if (ts.isConstructorDeclaration(fn)) return `${className(fn.parent)}.constructor`;
  if (!ts.isArrowFunction(fn) && !ts.isFunctionExpression(fn) && fn.name && ts.isIdentifier(fn.name)) {
    if (ts.isClassLike(p)) return `${className(p)}.${fn.name.text}`;
    return within(ts.isObjectLiteralExpression(p) ? `${objectName(p)} { ${fn.name.text} }` : fn.name.text);
  }
  if (ts.isPropertyDeclaration(p) && ts.isIdentifier(p.name)) return `${className(p.parent)}.${p.name.text}`;
  if (ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return within(p.name.text);
  if (ts.isPropertyAssignment(p) && ts.isIdentifier(p.name))
    return within(`${objectName(p.parent)} { ${p.name.text} }`);
  const cb = callbacks.get(fn);
  return within(cb ? `${cb} callback` : "<function>");
}

/** An object literal by what receives it: `new Writable`, `on("data")`, or the variable it initializes. */
function objectName(obj: ts.ObjectLiteralExpression): string {
  // Up through wrappers, `?:` and spreads into an enclosing literal (`{ ...(x ? {} : { onTrial }) }`).
  let e: ts.Node = obj;
  while (
    ts.isParenthesizedExpression(e.parent) ||
    ts.isAsExpression(e.parent) ||
    ts.isSatisfiesExpression(e.parent) ||
    ts.isConditionalExpression(e.parent) ||
    ts.isSpreadAssignment(e.parent) ||
    (ts.isObjectLiteralExpression(e.parent) && ts.isSpreadAssignment(e))
  ) {
    e = e.parent;
  }
  const p = e.parent;
  if ((ts.isCallExpression(p) || ts.isNewExpression(p)) && p.arguments?.includes(e as ts.Expression)) {
    return calleeLabel(p);
  }
  return ts.isVariableDeclaration(p) && ts.isIdentifier(p.name) ? p.name.text : "{}";
}

function className(cls: ts.Node): string {
  return ts.isClassLike(cls) && cls.name ? cls.name.text : "<class>";
}

/** One line per use, as a failing test prints them. */
export function formatUse(u: SyncFsUse): string {
  return `${u.file}:${u.line}:${u.column} ${u.call} in ${u.fn}: ${u.why}`;
}
