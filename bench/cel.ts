/**
 * CEL engine benchmark: `npm run bench:cel [-- --json]`.
 *
 * Three ways to evaluate typical policy expressions over `{tool, args, context}`:
 *
 * - ours: src/policy/cel.ts `CelCompiler` (@marcbachmann/cel-js, every `matches()` rewritten at
 *   compile time to an RE2-backed function with its pattern precompiled), on `celBindings`, which
 *   passes the JSON values as they are;
 * - @bufbuild/cel, the engine the policy used before: parsed and planned once, with an injected
 *   RE2 (the same re2js matchers). Its bindings must be the engine's own lists and maps; the old
 *   engine converted them once per decision, so here they are converted once, outside the timed
 *   loop, and the conversion is timed on its own (the "bindings" column);
 * - raw cel-js: the same engine and variable declarations as ours, but its built-in `matches()`,
 *   which builds a backtracking JavaScript RegExp on every call.
 *
 * Each figure is the median over several rounds of ns per evaluation, timed as a batch; all three
 * must agree on every result. The last rows time `^(a+)+$` on hostile input: ours and
 * @bufbuild/cel run RE2 and stay linear (a 100 KB input in milliseconds), while raw cel-js
 * backtracks exponentially, so it is only run on the 25-character input.
 */
import { celEnv, celList, celMap, isCelError, parse, plan } from "@bufbuild/cel";
import { Environment } from "@marcbachmann/cel-js";
import { CelCompiler, celBindings } from "../src/policy/cel.js";
import { compileRegex, type Matcher } from "../src/policy/regex.js";
import { median, round, table, timeBatch } from "./stats.js";

const JSON_OUT = process.argv.includes("--json");

type Bindings = { tool: string; args: Record<string, unknown>; context: Record<string, unknown> };

interface Case {
  name: string;
  expr: string;
  /** Evaluated alternately; at least one true and one false where it makes sense. */
  bindings: Bindings[];
}

const CASES: Case[] = [
  {
    name: "size + matches",
    expr: 'size(args.query) < 4096 && args.query.matches("^[a-z0-9 ]*$")',
    bindings: [
      { tool: "search", args: { query: "quarterly revenue by region 2024" }, context: {} },
      { tool: "search", args: { query: "x' union select * from users" }, context: {} },
    ],
  },
  {
    name: "string prefix/contains",
    expr: 'tool.startsWith("read_") && args.path.startsWith("/workspace/") && !args.path.contains("..")',
    bindings: [
      { tool: "read_file", args: { path: "/workspace/src/main.ts" }, context: {} },
      { tool: "read_file", args: { path: "/workspace/../etc/shadow" }, context: {} },
    ],
  },
  {
    name: "context + number",
    expr: 'has(context.env) && context.env == "prod" && args.limit <= 100',
    bindings: [
      { tool: "search", args: { limit: 20 }, context: { env: "prod", user: "alice" } },
      { tool: "search", args: { limit: 500 }, context: { env: "prod", user: "alice" } },
    ],
  },
  {
    name: "list comprehension",
    expr: 'args.recipients.all(r, r.endsWith("@example.com"))',
    bindings: [
      {
        tool: "send_mail",
        args: { recipients: ["a@example.com", "b@example.com", "c@example.com"] },
        context: {},
      },
      { tool: "send_mail", args: { recipients: ["a@example.com", "eve@evil.test"] }, context: {} },
    ],
  },
];

const ROUNDS = 7;
const PER_ROUND = 50_000;

function nsPerEval<B>(run: (b: B) => unknown, bindings: readonly B[]): number {
  const k = bindings.length;
  const at = (i: number) => bindings[i % k] as B;
  timeBatch(PER_ROUND, (i) => run(at(i)));
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) rounds.push(timeBatch(PER_ROUND, (i) => run(at(i))) / PER_ROUND);
  return median(rounds);
}

/** Ours: one compiler for every expression, as a compiled policy has. */
const ours = new CelCompiler();
const oursBindings = (b: Bindings) => celBindings(b.tool, b.args, b.context);

/**
 * @bufbuild/cel as src/policy/cel.ts used it before the move to cel-js. The engine asks its RE2
 * hook for the pattern on every `matches()` call; the old hook looked up a pattern compiled with
 * the policy, and this one compiles on the first (warm-up) call and looks up after that.
 */
const bufRegexes = new Map<string, Matcher>();
const bufEnv = celEnv({
  re2: {
    compile: (pattern: string): Matcher => {
      const m = bufRegexes.get(pattern) ?? compileRegex(pattern);
      bufRegexes.set(pattern, m);
      return m;
    },
  },
});

function bufbuild(expr: string): (b: unknown) => unknown {
  const program = plan(bufEnv, parse(expr));
  return (b) => {
    const out = program(b as never);
    if (isCelError(out)) throw new Error(out.message);
    return out;
  };
}

// The old per-decision conversion (celBindings before the move): the engine reads only its own lists and maps.
function toCelValue(v: unknown): unknown {
  if (Array.isArray(v)) return celList(v.map(toCelValue) as never[]);
  if (v !== null && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    const m = new Map<string, unknown>();
    for (const k of Object.keys(v)) m.set(k, toCelValue((v as Record<string, unknown>)[k]));
    return celMap(m as Map<string, never>);
  }
  return v;
}
const bufBindings = (b: Bindings) => ({
  tool: b.tool,
  args: toCelValue(b.args),
  context: toCelValue(b.context),
});

/** Raw cel-js: ours without the rewrite, so the only difference is which `matches()` runs. */
function rawCelJs(expr: string): (b: unknown) => unknown {
  const program = new Environment({ unlistedVariablesAreDyn: false })
    .registerVariable("tool", "string")
    .registerVariable("args", "map<string, dyn>")
    .registerVariable("context", "map<string, dyn>")
    .parse(expr);
  return (b) => program(b as Record<string, unknown>);
}

interface Row {
  ours_ns: number;
  bufbuild_ns: number;
  bufbuild_bindings_ns: number;
  celjs_ns: number;
}

function main(): void {
  const rows: string[][] = [
    [
      "expression",
      "ours ns/eval",
      "@bufbuild/cel ns/eval",
      "+ bindings ns",
      "raw cel-js ns/eval",
      "buf / ours",
    ],
  ];
  const results: Record<string, Row> = {};

  for (const c of CASES) {
    const a = ours.compile(c.expr, `/bench/${c.name}`);
    const b = bufbuild(c.expr);
    const z = rawCelJs(c.expr);
    const aIn = c.bindings.map(oursBindings);
    const bIn = c.bindings.map(bufBindings);
    for (const [i, input] of c.bindings.entries()) {
      const got = [a.run(aIn[i] as Bindings), b(bIn[i]), z(input)];
      if (got.some((r) => r !== got[0]) || typeof got[0] !== "boolean") {
        throw new Error(`${c.name}: engines disagree on ${JSON.stringify(input)}: ${got.join(" / ")}`);
      }
    }
    const row: Row = {
      ours_ns: nsPerEval((x) => a.run(x), aIn),
      bufbuild_ns: nsPerEval(b, bIn),
      bufbuild_bindings_ns: nsPerEval(bufBindings, c.bindings),
      celjs_ns: nsPerEval(z, c.bindings),
    };
    results[c.name] = row;
    rows.push([
      c.expr,
      row.ours_ns.toFixed(1),
      row.bufbuild_ns.toFixed(1),
      row.bufbuild_bindings_ns.toFixed(1),
      row.celjs_ns.toFixed(1),
      `${(row.bufbuild_ns / row.ours_ns).toFixed(1)}×`,
    ]);
  }

  // Hostile input: one evaluation each, median of three.
  const hostileExpr = 'args.text.matches("^(a+)+$")';
  const hostileLen = 25;
  const bigLen = 100_000;
  const hostile: Bindings = { tool: "echo", args: { text: `${"a".repeat(hostileLen)}!` }, context: {} };
  const big: Bindings = { tool: "echo", args: { text: `${"a".repeat(bigLen)}!` }, context: {} };
  const oursH = ours.compile(hostileExpr, "/bench/hostile");
  const bufH = bufbuild(hostileExpr);
  const celjsH = rawCelJs(hostileExpr);
  const once = (f: () => unknown) => {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) times.push(timeBatch(1, f) / 1e6);
    return median(times);
  };
  const [oursHIn, oursBigIn, bufHIn, bufBigIn] = [
    oursBindings(hostile),
    oursBindings(big),
    bufBindings(hostile),
    bufBindings(big),
  ];
  for (const r of [oursH.run(oursHIn), oursH.run(oursBigIn), bufH(bufHIn), bufH(bufBigIn)]) {
    if (r !== false) throw new Error(`hostile: expected false, got ${r}`);
  }
  const hostileMs = {
    ours_ms: once(() => oursH.run(oursHIn)),
    bufbuild_ms: once(() => bufH(bufHIn)),
    celjs_ms: once(() => celjsH(hostile)),
    ours_100kb_ms: once(() => oursH.run(oursBigIn)),
    bufbuild_100kb_ms: once(() => bufH(bufBigIn)),
  };
  rows.push([
    `${hostileExpr} on ${hostileLen}×"a"+"!" (ms)`,
    hostileMs.ours_ms.toFixed(3),
    hostileMs.bufbuild_ms.toFixed(3),
    "",
    hostileMs.celjs_ms.toFixed(1),
    "",
  ]);
  rows.push([
    `${hostileExpr} on ${bigLen}×"a"+"!" (ms)`,
    hostileMs.ours_100kb_ms.toFixed(3),
    hostileMs.bufbuild_100kb_ms.toFixed(3),
    "",
    "not run (exponential)",
    "",
  ]);

  console.log(
    `CEL benchmark — node ${process.version}; median of ${ROUNDS} rounds × ${PER_ROUND} evaluations`,
  );
  console.log("");
  console.log(table(rows));
  console.log("");
  const all = Object.values(results);
  const speedups = all.map((r) => r.bufbuild_ns / r.ours_ns);
  const vsRaw = all.map((r) => r.ours_ns / r.celjs_ns);
  const conversion = all.map((r) => r.bufbuild_bindings_ns);
  const span = (xs: number[], digits = 1) =>
    `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;
  console.log(
    `ours was ${span(speedups)}× as fast as @bufbuild/cel per evaluation, which also converted the ` +
      `bindings to its own lists and maps (${span(conversion, 0)} ns per decision here). Ours took ` +
      `${span(vsRaw, 2)}× as long as raw cel-js: the same engine, but matches() runs on precompiled ` +
      "RE2 instead of a backtracking RegExp built per call (the hostile rows).",
  );
  if (JSON_OUT) {
    const rounded = Object.fromEntries(
      Object.entries(results).map(([k, r]) => [
        k,
        Object.fromEntries(Object.entries(r).map(([f, v]) => [f, round(v, 1)])),
      ]),
    );
    console.log(
      JSON.stringify({
        expressions: rounded,
        hostile_matches: {
          input_length: hostileLen + 1,
          big_input_length: bigLen + 1,
          ours_ms: round(hostileMs.ours_ms, 3),
          bufbuild_ms: round(hostileMs.bufbuild_ms, 3),
          celjs_ms: round(hostileMs.celjs_ms, 1),
          ours_100kb_ms: round(hostileMs.ours_100kb_ms, 3),
          bufbuild_100kb_ms: round(hostileMs.bufbuild_100kb_ms, 3),
        },
      }),
    );
  }
}

main();
