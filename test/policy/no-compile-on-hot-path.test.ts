import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { Environment } from "@marcbachmann/cel-js";
import { Ajv2020 } from "ajv/dist/2020.js";
import { RE2JS } from "re2js";
import { CelCompiler } from "../../src/policy/cel.js";
import { checkTrace } from "../../src/policy/check-trace.js";
import { compilePolicy } from "../../src/policy/compile.js";
import { decide } from "../../src/policy/decide.js";
import { parsePack } from "../../src/policy/load-pack.js";
import { PolicySession } from "../../src/policy/session.js";
import { importsOf } from "../import-scanner.js";
import { afterCheck, beforeCheck, fixtureText, pack, rule } from "./helpers.js";

const SRC = new URL("../../src/", import.meta.url);

/** The modules a decision runs. None of them may compile, parse policy or read files. */
const EVALUATION_MODULES = [
  "policy/decide.ts",
  "policy/evaluate-rule.ts",
  "policy/eval-network.ts",
  "policy/find-targets.ts",
  "policy/read-destination.ts",
  "policy/text-urls.ts",
  "policy/host-keys.ts",
  "policy/reparse-args.ts",
  "policy/session-state.ts",
  "policy/session.ts",
  "policy/check-trace.ts",
  "policy/call-shape.ts",
  "policy/tool-pattern.ts",
  "policy/decision.ts",
  "policy/rule-scope.ts",
  "policy/tool-verdict.ts", // the gate's tools/list filter
  "policy/rule-plan.ts", // checks a plan's digests and resolves its rule ids (src/adapt builds plans)
];

/** Helpers evaluation modules may import; each only reads data built at compile time. */
const ALLOWED_HELPERS = [
  "policy/suggest.ts", // did-you-mean over a precomputed list
  "policy/network-ir.ts", // normalizeHost; its compileNetwork is banned below
  "policy/ip-bits.ts", // parses IP literals found in arguments into numbers, not policy
  // Reads argument strings as JSON, as a re-parsing server (FastMCP) does: the call's data, not policy.
  "policy/json-text.ts",
  "policy/json-pointer.ts", // escapes pointer segments: string functions, no policy
];

/** Modules that compile or parse: an evaluation module must not import them (types excepted). */
const COMPILE_MODULES = [
  "policy/compile.ts",
  "policy/compile-ir.ts",
  "policy/compile-packs.ts",
  "policy/args-schema.ts",
  "policy/re2-engine.ts",
  "policy/pack-cache.ts",
  "policy/read-pack.ts",
  "policy/cel.ts",
  "policy/regex.ts",
  "policy/regex-linear.ts",
  "policy/load-pack.ts",
  "policy/pack-schema.ts",
  "policy/normalize-pack.ts",
];
const COMPILE_PACKAGES =
  /^(ajv(\/.*)?|@marcbachmann\/cel-js(\/.*)?|re2js|yaml|canonicalize|node:fs(\/promises)?|fs(\/promises)?)$/;

/** Calls that compile or parse, as text. */
const FORBIDDEN: [string, RegExp][] = [
  ["new RegExp", /\bnew\s+RegExp\b/],
  ["RegExp(", /\bRegExp\s*\(/],
  ["RE2JS", /RE2JS/],
  ["re2js", /re2js/],
  [".compile(", /\.compile\s*\(/],
  ["compileRegex", /\bcompileRegex\b/],
  ["Ajv", /\bAjv/],
  ["ajv", /\bajv\b/],
  ["@marcbachmann/cel-js", /@marcbachmann\/cel-js/],
  ["serialize(", /(?<![\w.$])serialize\s*\(/],
  ["parse(", /(?<![\w.$])parse\s*\(/],
  ["plan(", /(?<![\w.$])plan\s*\(/],
  ["yaml", /["']yaml["']/],
  ["JSON.parse", /\bJSON\s*\.\s*parse\b/],
  ["node:fs", /["'](node:)?fs(\/promises)?["']/],
  ["readFile", /\breadFile(Sync)?\b/],
  ["require(", /\brequire\s*\(/],
  ["import(", /\bimport\s*\(/],
  ["eval(", /(?<![\w.$])eval\s*\(/],
  ["new Function", /\bnew\s+Function\b/],
  ["compilePolicy", /\bcompilePolicy\s*\(/],
  ["compileNetwork", /\bcompileNetwork\s*\(/],
  ["loadPack / parsePack / packFromObject", /\b(loadPack|parsePack|packFromObject)\s*\(/],
  ["parseToolPattern (outside its definition)", /(?<!function\s)\bparseToolPattern\s*\(/],
  ["BlockList (built at compile time)", /\bnew\s+BlockList\b/],
];

/** The module's code without type-only imports and whole-line comments (which may name what they avoid). */
function codeOf(text: string): string {
  return text
    .replace(/^\s*(import|export)\s+type\s[^;]*;/gm, "")
    .replace(/^\s*import\s+\{(\s*type\s+[^,}]+,?)+\s*\}\s+from\s+[^;]+;/gm, "")
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/^\s*\/\/.*$/gm, "");
}

/** The text from each `marker` to the end of the block or expression it opens (brace-balanced). */
function bodyAfter(text: string, marker: string): string | undefined {
  const bodies: string[] = [];
  for (let at = text.indexOf(marker); at >= 0; at = text.indexOf(marker, at + 1)) {
    let depth = 0;
    let end = text.length;
    for (let i = at; i < text.length; i++) {
      const c = text[i];
      if (c === "{" || c === "(") depth++;
      else if (c === "}" || c === ")") {
        depth--;
        if (depth < 0 || (depth === 0 && c === "}")) {
          end = depth < 0 ? i : i + 1;
          break;
        }
      } else if (depth === 0 && (c === "," || c === ";")) {
        end = i;
        break;
      }
    }
    bodies.push(text.slice(at, end));
  }
  return bodies.length > 0 ? bodies.join("\n") : undefined;
}

const read = (rel: string) => readFileSync(new URL(rel, SRC), "utf8");
const resolveLocal = (from: string, spec: string): string =>
  new URL(spec.replace(/\.js$/, ".ts"), new URL(from, SRC)).href.slice(SRC.href.length);

describe("deciding never compiles: the source", () => {
  test("the evaluation modules exist", () => {
    for (const m of [...EVALUATION_MODULES, ...ALLOWED_HELPERS, ...COMPILE_MODULES]) {
      assert.ok(existsSync(new URL(m, SRC)), `src/${m} is missing: update this test's lists`);
    }
  });

  for (const m of EVALUATION_MODULES) {
    test(`src/${m} calls nothing that compiles or parses`, () => {
      const code = codeOf(read(m));
      const found = FORBIDDEN.filter(([, re]) => re.test(code)).map(([name]) => name);
      assert.deepEqual(found, [], `src/${m} contains ${found.join(", ")}`);
    });

    test(`src/${m} imports no compiler, parser or file system (types excepted)`, () => {
      for (const imp of importsOf(read(m))) {
        if (imp.typeOnly) continue;
        if (imp.specifier.startsWith(".")) {
          const target = resolveLocal(m, imp.specifier);
          assert.ok(!COMPILE_MODULES.includes(target), `src/${m} imports src/${target}`);
        } else {
          assert.ok(!COMPILE_PACKAGES.test(imp.specifier), `src/${m} imports \`${imp.specifier}\``);
        }
      }
    });
  }

  test("everything a decision loads (transitively) is an evaluation module or an allowed helper", () => {
    const seen = new Set<string>();
    const queue = [...EVALUATION_MODULES];
    while (queue.length > 0) {
      const m = queue.pop() as string;
      if (seen.has(m)) continue;
      seen.add(m);
      for (const imp of importsOf(read(m))) {
        if (imp.typeOnly || !imp.specifier.startsWith(".")) continue;
        queue.push(resolveLocal(m, imp.specifier));
      }
    }
    const policyModules = [...seen].filter((m) => m.startsWith("policy/"));
    const extra = policyModules.filter(
      (m) => !EVALUATION_MODULES.includes(m) && !ALLOWED_HELPERS.includes(m),
    );
    assert.deepEqual(extra, [], "a decision now loads these modules: review them and extend the lists");
    for (const m of seen) assert.ok(!COMPILE_MODULES.includes(m), `a decision loads src/${m}`);
  });

  // Compile modules hand closures to the hot path; those closures must only run what was built.
  test("the closures compile modules hand to the hot path compile nothing", () => {
    const hot = [
      ["policy/cel.ts", bodyAfter(read("policy/cel.ts"), "run(bindings")],
      // The RE2-backed `matches()` runs while evaluating: a lookup of a precompiled pattern only.
      ["policy/cel.ts", bodyAfter(read("policy/cel.ts"), "const lookup = (pattern: string): Matcher =>")],
      ["policy/regex.ts", bodyAfter(read("policy/regex.ts"), "test: (text: string) =>")],
    ];
    for (const [m, body] of hot) {
      assert.ok(body && body.length > 0, `src/${m}: the hot-path closure was not found: update this test`);
      const found = FORBIDDEN.filter(([, re]) => re.test(body)).map(([name]) => name);
      assert.deepEqual(found, [], `src/${m} runs ${found.join(", ")} on the hot path`);
    }
  });

  test("the scanner itself: it catches what it should", () => {
    const bad = [
      'import { RE2JS } from "re2js";',
      "const r = new RegExp(x);",
      "const v = ajv.compile(schema);",
      'import { Environment } from "@marcbachmann/cel-js";\nenv.parse(src);',
      "const doc = JSON.parse(text);",
      'import { readFileSync } from "node:fs";',
      "const p = parseToolPattern(s);",
    ];
    for (const text of bad)
      assert.ok(
        FORBIDDEN.some(([, re]) => re.test(codeOf(text))),
        text,
      );
    const fine = [
      'import type { ErrorObject } from "ajv";',
      "const a = ipaddr.IPv6.parse(ip);",
      "// we never call JSON.parse here",
      "export function parseToolPattern(source: string) {}",
    ];
    for (const text of fine) {
      const hits = FORBIDDEN.filter(([, re]) => re.test(codeOf(text))).map(([n]) => n);
      assert.deepEqual(hits, [], text);
    }
    assert.deepEqual(importsOf('import { type A, type B } from "./compile.js";'), [
      { specifier: "./compile.js", typeOnly: true },
    ]);
    assert.deepEqual(importsOf('import compile from "./compile.js";'), [
      { specifier: "./compile.js", typeOnly: false },
    ]);
    assert.deepEqual(importsOf('import * as c from "./compile.js";'), [
      { specifier: "./compile.js", typeOnly: false },
    ]);
    assert.deepEqual(importsOf('import { type A, b } from "./compile.js";'), [
      { specifier: "./compile.js", typeOnly: false },
    ]);
  });
});

describe("deciding never compiles: at run time", () => {
  let re2Compiles = 0;
  let ajvCompiles = 0;
  let celCompiles = 0;
  const originalRe2 = RE2JS.compile;
  const originalAjv = Ajv2020.prototype.compile;
  const originalCel = CelCompiler.prototype.compile;
  const originalCelParse = Environment.prototype.parse;

  before(() => {
    RE2JS.compile = function (this: unknown, ...a: Parameters<typeof RE2JS.compile>) {
      re2Compiles++;
      return originalRe2.apply(this, a);
    } as typeof RE2JS.compile;
    Ajv2020.prototype.compile = function (this: Ajv2020, ...a: Parameters<Ajv2020["compile"]>) {
      ajvCompiles++;
      return originalAjv.apply(this, a);
    } as Ajv2020["compile"];
    CelCompiler.prototype.compile = function (this: CelCompiler, ...a: Parameters<CelCompiler["compile"]>) {
      celCompiles++;
      return originalCel.apply(this, a);
    };
    // The engine's own parse, in case anything reached it without going through CelCompiler.
    Environment.prototype.parse = function (this: Environment, ...a: Parameters<Environment["parse"]>) {
      celCompiles++;
      return originalCelParse.apply(this, a);
    };
  });
  after(() => {
    RE2JS.compile = originalRe2;
    Ajv2020.prototype.compile = originalAjv;
    CelCompiler.prototype.compile = originalCel;
    Environment.prototype.parse = originalCelParse;
  });

  test("1,000 decisions across every rule kind compile nothing", () => {
    const policy = compilePolicy([
      parsePack(fixtureText("p1.yaml"), "p1.yaml"),
      pack(
        "more",
        [
          rule("names", {
            args: {
              tools: ["write_*"],
              schema: {
                type: "object",
                properties: { name: { type: "string", pattern: "^[a-z]+$" } },
                patternProperties: { "^x-": { type: "string" } },
              },
            },
          }),
          rule("short", { expr: { tools: ["write_*"], assert: 'args.name.matches("^[a-z]{1,8}$")' } }),
          rule("login-first", { sequence: beforeCheck("login", "write_*") }),
          rule("tests-after-write", {
            sequence: afterCheck("write_*", "run_tests", 3),
          }),
          rule("net", {
            network: { allow_cidrs: ["192.168.0.0/16"], allow_hosts: ["*.example.com"], deny_ports: [25] },
          }),
          rule("budget", { limit: { max_calls: 10_000, per_tool: { "write_*": 5_000 } } }),
        ],
        { defaults: "allow" },
      ),
    ]);
    // The hooks see compiling (so they would see it during deciding too).
    assert.ok(re2Compiles > 0, "RE2JS.compile was not intercepted");
    assert.ok(ajvCompiles > 0, "Ajv2020#compile was not intercepted");
    assert.ok(celCompiles > 0, "CelCompiler#compile was not intercepted");
    re2Compiles = 0;
    ajvCompiles = 0;
    celCompiles = 0;

    const calls: [unknown, Record<string, unknown>][] = [
      [{ tool: "read_file", arguments: { path: "/workspace/a" } }, {}],
      [{ tool: "read_file", arguments: { path: "/etc/passwd" } }, {}],
      [{ tool: "search", arguments: { query: "hello world" } }, {}],
      [{ tool: "search", arguments: { query: "Hello" } }, { history: ["search"] }],
      [{ tool: "search", arguments: {} }, {}],
      [{ tool: "http_get", arguments: { url: "http://10.0.0.1/" } }, { env: "prod" }],
      [
        { tool: "http_get", arguments: { url: "https://api.example.com/", note: "see http://[fd00::1]/" } },
        { env: "prod" },
      ],
      [{ tool: "http_post", arguments: {} }, { history: ["read_secret"] }],
      [{ tool: "write_note", arguments: { name: "abc", "x-tag": "t" } }, { history: ["login"] }],
      [{ tool: "write_note", arguments: { name: "ABC!", "x-tag": 1 } }, {}],
      [{ tool: "fs_tmp_write", arguments: {} }, {}],
      [{ tool: "serch", arguments: {} }, {}],
      [{ jsonrpc: "2.0", id: 1, method: "tools/call", params: { name: "list_dir", arguments: {} } }, {}],
      [42, {}],
    ];
    const effects = new Set<string>();
    const session = new PolicySession(policy);
    for (let i = 0; i < 1000; i++) {
      const [call, context] = calls[i % calls.length] as [unknown, Record<string, unknown>];
      effects.add(decide(policy, call, context).reason_code);
      session.decide(call, context);
    }
    const trace = checkTrace(policy, { calls: calls.map(([c]) => c), context: { env: "prod" } });
    assert.ok(trace.length > 0);
    assert.deepEqual(
      { re2Compiles, ajvCompiles, celCompiles },
      { re2Compiles: 0, ajvCompiles: 0, celCompiles: 0 },
    );
    // The calls did exercise the rules, not only the defaults.
    for (const code of [
      "allowed",
      "args_invalid",
      "expr_failed",
      "network_denied",
      "sequence_violation",
      "tool_denied",
    ]) {
      assert.ok(effects.has(code), `no decision had reason ${code}`);
    }
  });
});
