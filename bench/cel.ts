/**
 * CEL engine benchmark: `npm run bench:cel [-- --json]`.
 *
 * Compares the engine the policy uses, @bufbuild/cel (through src/policy/cel.ts: parsed, checked
 * and planned once, `matches()` patterns precompiled to RE2), with @marcbachmann/cel-js
 * (`new Environment({unlistedVariablesAreDyn: true}).parse(expr)` once) on typical policy
 * expressions over `{tool, args, context}`. Each figure is the median over several rounds of
 * ns per evaluation, timed as a batch; both engines must agree on every result.
 *
 * Why @bufbuild/cel even though cel-js is usually faster per evaluation: cel-js implements
 * `string.matches(string)` as `new RegExp(pattern).test(s)`, i.e. it builds a backtracking
 * JavaScript RegExp on every call, and its built-in overload cannot be replaced
 * (`registerFunction("string.matches(string): bool", ...)` is refused as an overlapping
 * overload). Policy arguments are attacker-controlled, so a pattern like `^(a+)+$` on a short
 * hostile string stalls the gate (exponential backtracking; see the last rows, which time it
 * on a 25-character input). @bufbuild/cel takes an injected RE2 engine, which we give patterns
 * compiled once with the policy and which runs in linear time.
 */
import { Environment } from "@marcbachmann/cel-js";
import { CelCompiler } from "../src/policy/cel.js";
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

function nsPerEval(run: (b: Bindings) => unknown, bindings: Bindings[]): number {
  const k = bindings.length;
  const at = (i: number) => bindings[i % k] as Bindings;
  timeBatch(PER_ROUND, (i) => run(at(i)));
  const rounds: number[] = [];
  for (let r = 0; r < ROUNDS; r++) rounds.push(timeBatch(PER_ROUND, (i) => run(at(i))) / PER_ROUND);
  return median(rounds);
}

function main(): void {
  const compiler = new CelCompiler();
  const rows: string[][] = [["expression", "@bufbuild/cel ns/eval", "cel-js ns/eval", "bufbuild / cel-js"]];
  const results: Record<string, { bufbuild_ns: number; celjs_ns: number }> = {};

  for (const c of CASES) {
    const ours = compiler.compile(c.expr, `/bench/${c.name}`);
    const celjs = new Environment({ unlistedVariablesAreDyn: true }).parse(c.expr);
    for (const b of c.bindings) {
      const a = ours.run(b);
      const z = celjs(b);
      if (a !== z) throw new Error(`${c.name}: engines disagree on ${JSON.stringify(b)}: ${a} vs ${z}`);
    }
    const bufNs = nsPerEval((b) => ours.run(b), c.bindings);
    const celNs = nsPerEval((b) => celjs(b), c.bindings);
    results[c.name] = { bufbuild_ns: round(bufNs, 1), celjs_ns: round(celNs, 1) };
    rows.push([c.expr, bufNs.toFixed(1), celNs.toFixed(1), `${(bufNs / celNs).toFixed(2)}×`]);
  }

  // The hostile-input case (see the header): one evaluation each, median of three.
  const hostileExpr = 'args.text.matches("^(a+)+$")';
  const hostileLen = 25;
  const hostile: Bindings = { tool: "echo", args: { text: `${"a".repeat(hostileLen)}!` }, context: {} };
  const big: Bindings = { tool: "echo", args: { text: `${"a".repeat(100_000)}!` }, context: {} };
  const oursHostile = compiler.compile(hostileExpr, "/bench/hostile");
  const celjsHostile = new Environment({ unlistedVariablesAreDyn: true }).parse(hostileExpr);
  const once = (f: () => unknown) => {
    const times: number[] = [];
    for (let i = 0; i < 3; i++) times.push(timeBatch(1, f) / 1e6);
    return median(times);
  };
  oursHostile.run(hostile);
  const oursHostileMs = once(() => oursHostile.run(hostile));
  const oursBigMs = once(() => oursHostile.run(big));
  const celjsHostileMs = once(() => celjsHostile(hostile));
  rows.push([
    `${hostileExpr} on ${hostileLen}×"a"+"!" (ms)`,
    oursHostileMs.toFixed(3),
    celjsHostileMs.toFixed(1),
    "",
  ]);
  rows.push([`${hostileExpr} on 100000×"a"+"!" (ms)`, oursBigMs.toFixed(3), "not run (exponential)", ""]);

  console.log(
    `CEL benchmark — node ${process.version}; median of ${ROUNDS} rounds × ${PER_ROUND} evaluations`,
  );
  console.log("");
  console.log(table(rows));
  console.log("");
  const ratios = Object.values(results).map((r) => r.bufbuild_ns / r.celjs_ns);
  const celjsFaster = ratios.filter((r) => r > 1).length;
  console.log(
    `cel-js was faster on ${celjsFaster} of ${ratios.length} benign expressions ` +
      `(@bufbuild/cel took ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}× as long). ` +
      "We still use @bufbuild/cel: its matches() runs on our precompiled linear-time RE2 engine, " +
      "while cel-js builds a backtracking RegExp per call (the hostile rows).",
  );
  if (JSON_OUT) {
    console.log(
      JSON.stringify({
        expressions: results,
        hostile_matches: {
          input_length: hostileLen + 1,
          bufbuild_ms: round(oursHostileMs, 3),
          celjs_ms: round(celjsHostileMs, 1),
          bufbuild_100kb_ms: round(oursBigMs, 3),
        },
      }),
    );
  }
}

main();
