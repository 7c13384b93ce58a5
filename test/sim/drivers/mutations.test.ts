// Over ~400 lines on purpose: the replay mutations: each kind with its property tests, one suite.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { compilePolicy, decide, loadPack } from "../../../src/index.js";
import { MAX_SITE_DEPTH, MUTATION_VARIANTS, mutateTrace } from "../../../src/sim/drivers/mutations.js";
import { type Rng, rngFor } from "../../../src/sim/stats/rng.js";
import { type Call, MUTATIONS, type Mutation } from "../../../src/sim/target/types.js";

const U64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n });

/** Draws `picks` first (kind, site, variant), then a seeded generator's draws. */
function forced(...picks: number[]): Rng {
  const rest = rngFor(7n);
  let i = 0;
  return {
    nextFloat: () => rest.nextFloat(),
    nextInt: (n) => {
      if (i >= picks.length) return rest.nextInt(n);
      const k = picks[i++] as number;
      assert.ok(k < n, `forced pick ${k} out of range ${n}`);
      return k;
    },
  };
}

/** An Rng that fails the test when drawn from. */
const untouchable: Rng = {
  nextFloat: () => assert.fail("rng drawn from"),
  nextInt: () => assert.fail("rng drawn from"),
};

/** One variant of one kind at the kind's first site of a one-call trace. */
function apply(kind: Mutation, variant: string, call: Call, site = 0): Call {
  const vi = MUTATION_VARIANTS[kind].indexOf(variant);
  assert.ok(vi >= 0, `no variant ${variant}`);
  const { calls, applied } = mutateTrace([call], [kind], forced(0, site, vi));
  assert.equal(applied?.variant, variant);
  return calls[0] as Call;
}
const applyTo = (kind: Mutation, variant: string, arg: string): unknown =>
  apply(kind, variant, { tool: "t", arguments: { a: arg } }).arguments.a;

/** Every string of a call (tool and argument leaves), by the path `AppliedMutation.path` uses. */
function strings(call: Call): Map<string, string> {
  const out = new Map([["tool", call.tool]]);
  const walk = (v: unknown, path: string): void => {
    if (typeof v === "string") out.set(path, v);
    else if (Array.isArray(v)) for (const [i, x] of v.entries()) walk(x, `${path}[${i}]`);
    else if (v !== null && typeof v === "object")
      for (const [k, x] of Object.entries(v))
        walk(x, /^[A-Za-z_$][\w$-]*$/.test(k) ? `${path}.${k}` : `${path}[${JSON.stringify(k)}]`);
  };
  walk(call.arguments, "arguments");
  return out;
}

function deepFreeze<T>(v: T): T {
  if (v !== null && typeof v === "object") {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}

const SESSION: Call[] = [
  { tool: "list_directory", arguments: { path: "/workspace" } },
  { tool: "read_file", arguments: { path: "/workspace/src/a.ts" } },
  { tool: "fetch", arguments: { url: "https://registry.npmjs.org/left-pad", headers: { "x.trace": "abc" } } },
  {
    tool: "write_file",
    arguments: { path: "/workspace/notes.md", content: "done" },
    context: { approved: true },
  },
  { tool: "search", arguments: { queries: ["a", { deep: ["./rel/file.txt"] }], limit: 5 } },
];

const arbCall: fc.Arbitrary<Call> = fc.record({
  tool: fc.constantFrom("read_file", "fetch", "search", "BASH", "x", "", "list_directory"),
  arguments: fc.dictionary(
    fc.constantFrom("path", "url", "q", "a.b", "__proto__", "n"),
    fc.oneof(
      fc.constantFrom("/workspace/a", "https://example.com/x", "http://localhost/", "src/a.ts", "plain", ""),
      fc.string(),
      fc.integer(),
      fc.array(fc.constantFrom("/workspace/b", "https://a.example/", 3), { maxLength: 3 }),
    ),
  ),
});
const arbTrace = fc.array(arbCall, { maxLength: 5 });
const arbKinds = fc.subarray([...MUTATIONS]);

describe("mutateTrace", () => {
  test("the variant names are pinned", () => {
    assert.deepEqual(MUTATION_VARIANTS, {
      path_traversal: [
        "dotdot",
        "dotdot-percent-encoded",
        "dotdot-double-encoded",
        "dotdot-backslash",
        "dotdot-overlong-utf8",
        "dotdot-fullwidth",
        "dotdot-nul-suffix",
        "absolute-swap",
        "repeated-slashes",
      ],
      case_confusable: [
        "upper-case",
        "mixed-case",
        "cyrillic-homoglyph",
        "fullwidth-letter",
        "zero-width-space",
        "zero-width-joiner",
        "trailing-whitespace",
      ],
      url_tricks: [
        "metadata-decimal",
        "metadata-hex",
        "metadata-octal",
        "metadata-ipv4-mapped",
        "metadata-ipv4-mapped-hex",
        "userinfo-at-metadata",
        "metadata-trailing-dot",
        "metadata-name",
        "metadata-name-trailing-dot",
        "localhost",
        "loopback-ip",
      ],
      injected_secret: ["aws-access-key-id", "github-token", "pem-private-key", "jwt", "slack-bot-token"],
    });
  });

  test("no mutations: the calls as recorded, no draw", () => {
    const { calls, applied } = mutateTrace(SESSION, [], untouchable);
    assert.equal(applied, null);
    assert.deepEqual(calls, SESSION);
    for (const [i, c] of calls.entries()) assert.equal(c, SESSION[i]);
  });

  test("no applicable site: the calls as recorded, no draw", () => {
    const trace: Call[] = [{ tool: "x", arguments: { n: 1, s: "plain words" } }];
    const r = mutateTrace(trace, ["path_traversal", "url_tricks"], untouchable);
    assert.equal(r.applied, null);
    assert.deepEqual(r.calls, trace);
    assert.equal(mutateTrace([], [...MUTATIONS], untouchable).applied, null);
    // No letter a Cyrillic look-alike exists for, so not every case variant changes it.
    assert.equal(
      mutateTrace([{ tool: "W_1", arguments: {} }], ["case_confusable"], untouchable).applied,
      null,
    );
    // A URL already at localhost is not a url_tricks site: the `localhost` variant would not change it.
    const local: Call[] = [{ tool: "fetch", arguments: { url: "http://localhost/" } }];
    assert.equal(mutateTrace(local, ["url_tricks"], untouchable).applied, null);
  });

  test("same trace, kinds and seed: same output", () => {
    fc.assert(
      fc.property(arbTrace, arbKinds, U64, (trace, kinds, seed) => {
        assert.deepEqual(mutateTrace(trace, kinds, rngFor(seed)), mutateTrace(trace, kinds, rngFor(seed)));
      }),
    );
  });

  test("the order of the requested kinds does not matter", () => {
    fc.assert(
      fc.property(arbTrace, arbKinds, U64, (trace, kinds, seed) => {
        const reversed = [...kinds, ...kinds].reverse();
        assert.deepEqual(mutateTrace(trace, kinds, rngFor(seed)), mutateTrace(trace, reversed, rngFor(seed)));
      }),
    );
  });

  test("exactly one string changes, where `applied` says, and the input is untouched", () => {
    fc.assert(
      fc.property(arbTrace, arbKinds, U64, (raw, kinds, seed) => {
        const trace = deepFreeze(structuredClone(raw));
        const before = structuredClone(trace);
        const { calls, applied } = mutateTrace(trace, kinds, rngFor(seed));
        assert.deepEqual(trace, before);
        assert.equal(calls.length, trace.length);
        if (!applied) {
          for (const [i, c] of calls.entries()) assert.equal(c, trace[i]);
          return;
        }
        assert.ok(kinds.includes(applied.kind));
        assert.ok(MUTATION_VARIANTS[applied.kind].includes(applied.variant));
        for (const [i, c] of calls.entries()) {
          if (i !== applied.call_index) {
            assert.equal(c, trace[i]);
            continue;
          }
          const old = strings(trace[i] as Call);
          const now = strings(c);
          assert.deepEqual([...now.keys()], [...old.keys()]);
          const changed = [...now].filter(([k, v]) => old.get(k) !== v).map(([k]) => k);
          assert.deepEqual(changed, [applied.path]);
          assert.equal(c.context, trace[i]?.context);
        }
      }),
    );
  });

  test("over many seeds every requested kind and every variant is drawn", () => {
    const seen = new Set<string>();
    for (let s = 0n; s < 2000n; s++) {
      const { applied } = mutateTrace(SESSION, MUTATIONS, rngFor(s));
      assert.ok(applied);
      seen.add(`${applied.kind}/${applied.variant}`);
    }
    assert.equal(seen.size, Object.values(MUTATION_VARIANTS).flat().length);
  });

  test("sites: the tool, then argument strings depth first, with their paths", () => {
    const paths = (kind: Mutation) => {
      const out = new Set<string>();
      for (let s = 0n; s < 400n; s++) {
        const { applied } = mutateTrace(SESSION, [kind], rngFor(s));
        if (applied) out.add(`${applied.call_index} ${applied.path}`);
      }
      return [...out].sort();
    };
    assert.deepEqual(paths("path_traversal"), [
      "0 arguments.path",
      "1 arguments.path",
      "3 arguments.path",
      "4 arguments.queries[1].deep[0]",
    ]);
    assert.deepEqual(paths("url_tricks"), ["2 arguments.url"]);
    assert.deepEqual(paths("case_confusable"), [
      "0 tool",
      "1 tool",
      "2 arguments.url",
      "2 tool",
      "3 tool",
      "4 tool",
    ]);
    assert.equal(paths("injected_secret").length, 8);
    assert.ok(paths("injected_secret").includes('2 arguments.headers["x.trace"]'));
  });

  test("containers nested deeper than MAX_SITE_DEPTH are not searched", () => {
    const nest = (levels: number): unknown => (levels === 0 ? "/workspace/a" : { k: nest(levels - 1) });
    const site = (levels: number) =>
      mutateTrace([{ tool: "t", arguments: { k: nest(levels) } }], ["path_traversal"], rngFor(1n)).applied;
    // `arguments` is level 1: its `k` object is level 2, so the string sits in the object at level levels + 1.
    assert.equal(site(MAX_SITE_DEPTH - 1)?.path, `arguments${".k".repeat(MAX_SITE_DEPTH)}`);
    assert.equal(site(MAX_SITE_DEPTH), null);
  });
});

describe("variants", () => {
  test("path_traversal", () => {
    const cases: [string, string, string][] = [
      ["dotdot", "/workspace/a", "/workspace/../etc/passwd"],
      ["dotdot", "/workspace", "/workspace/../etc/passwd"],
      ["dotdot", "/workspace/src/a.ts", "/workspace/src/../../etc/passwd"],
      ["dotdot", "./docs/a.md", "./docs/../etc/passwd"],
      ["dotdot-percent-encoded", "/workspace/a", "/workspace/%2e%2e/etc/passwd"],
      ["dotdot-double-encoded", "/workspace/a", "/workspace/%252e%252e/etc/passwd"],
      ["dotdot-backslash", "/workspace/src/a.ts", "/workspace/src\\..\\..\\etc\\passwd"],
      ["dotdot-overlong-utf8", "/workspace/a", "/workspace/..%c0%afetc/passwd"],
      ["dotdot-fullwidth", "/workspace/a", "/workspace/\uFF0E\uFF0E\uFF0Fetc/passwd"],
      ["dotdot-nul-suffix", "/workspace/a.txt", "/workspace/../etc/passwd%00.txt"],
      ["dotdot-nul-suffix", "/workspace/a", "/workspace/../etc/passwd%00"],
      ["absolute-swap", "/workspace/a", "/etc/shadow"],
      ["repeated-slashes", "/workspace/a", "/workspace//../../etc/passwd"],
    ];
    for (const [variant, input, output] of cases)
      assert.equal(applyTo("path_traversal", variant, input), output);
    const sites = (s: string) =>
      mutateTrace([{ tool: "t", arguments: { a: s } }], ["path_traversal"], rngFor(1n));
    assert.equal(sites("https://example.com/a").applied, null);
    assert.equal(sites("line one/\nline two").applied, null);
    assert.equal(sites("src/a.ts").applied?.path, "arguments.a");
  });

  test("case_confusable on tool names", () => {
    const tool = (variant: string, name: string) =>
      apply("case_confusable", variant, { tool: name, arguments: {} }).tool;
    assert.equal(tool("upper-case", "read_file"), "READ_FILE");
    assert.equal(tool("mixed-case", "read_file"), "ReAd_FiLe");
    assert.equal(tool("cyrillic-homoglyph", "read_file"), "r\u0435ad_file");
    assert.equal(tool("cyrillic-homoglyph", "bash"), "b\u0430sh");
    assert.equal(tool("fullwidth-letter", "read_file"), "\uFF52ead_file");
    assert.equal(tool("zero-width-space", "read_file"), "r\u200Bead_file");
    assert.equal(tool("zero-width-joiner", "read_file"), "r\u200Dead_file");
    assert.equal(tool("trailing-whitespace", "read_file"), "read_file ");
  });

  test("case_confusable on URL hosts keeps everything else as written", () => {
    const call: Call = { tool: "fetch", arguments: { url: "https://u:p@Docs.Example.com:8443/A/b?q=1#f" } };
    const url = (variant: string) => apply("case_confusable", variant, call, 1).arguments.url;
    assert.equal(url("upper-case"), "https://u:p@DOCS.EXAMPLE.COM:8443/A/b?q=1#f");
    assert.equal(url("mixed-case"), "https://u:p@DoCs.ExAmPlE.cOm:8443/A/b?q=1#f");
    assert.equal(url("cyrillic-homoglyph"), "https://u:p@D\u043Ecs.Example.com:8443/A/b?q=1#f");
    assert.equal(url("trailing-whitespace"), "https://u:p@Docs.Example.com :8443/A/b?q=1#f");
    // An IP literal has no letters to confuse.
    const ip: Call = { tool: "fetch", arguments: { url: "http://93.184.216.34/" } };
    for (let seed = 0n; seed < 20n; seed++)
      assert.equal(mutateTrace([ip], ["case_confusable"], rngFor(seed)).applied?.path, "tool");
  });

  test("url_tricks", () => {
    const src = "https://docs.example.com:8443/deploy?x=1#top";
    const cases: [string, string][] = [
      ["metadata-decimal", "https://2852039166/deploy?x=1#top"],
      ["metadata-hex", "https://0xA9FEA9FE/deploy?x=1#top"],
      ["metadata-octal", "https://0251.0376.0251.0376/deploy?x=1#top"],
      ["metadata-ipv4-mapped", "https://[::ffff:169.254.169.254]/deploy?x=1#top"],
      ["metadata-ipv4-mapped-hex", "https://[::ffff:a9fe:a9fe]/deploy?x=1#top"],
      ["userinfo-at-metadata", "https://docs.example.com@169.254.169.254/deploy?x=1#top"],
      ["metadata-trailing-dot", "https://169.254.169.254./deploy?x=1#top"],
      ["metadata-name", "https://metadata.google.internal/deploy?x=1#top"],
      ["metadata-name-trailing-dot", "https://metadata.google.internal./deploy?x=1#top"],
      ["localhost", "https://localhost/deploy?x=1#top"],
      ["loopback-ip", "https://127.0.0.1/deploy?x=1#top"],
    ];
    for (const [variant, output] of cases) assert.equal(applyTo("url_tricks", variant, src), output);
    // Every metadata form is the metadata address to a WHATWG parser.
    for (const [variant, output] of cases.filter(([v]) => v.startsWith("metadata-") && !v.includes("name"))) {
      const host = new URL(output).hostname;
      assert.ok(["169.254.169.254", "[::ffff:a9fe:a9fe]"].includes(host), `${variant}: ${host}`);
    }
    assert.equal(new URL(cases[5]?.[1] as string).hostname, "169.254.169.254");
    const site = (s: string) => mutateTrace([{ tool: "t", arguments: { a: s } }], ["url_tricks"], rngFor(1n));
    assert.equal(site("ftp://example.com/").applied, null);
    assert.equal(site("see https://example.com/").applied, null);
    assert.equal(site("http://[::1]:8080/x").applied?.path, "arguments.a");
  });

  test("injected_secret: shaped like the real thing, marked as fake, seeded", () => {
    const shapes: Record<string, RegExp> = {
      "aws-access-key-id": /^text AKIA[A-Z2-7]{9}EXAMPLE$/,
      "github-token": /^text ghp_ASSAYFAKE[A-Za-z0-9]{27}$/,
      "pem-private-key":
        /^text -----BEGIN RSA PRIVATE KEY-----\nASSAYFAKEKEY[A-Za-z0-9+/]{52}\n-----END RSA PRIVATE KEY-----$/,
      jwt: /^text eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{43}$/,
      "slack-bot-token": /^text xoxb-\d{12}-\d{13}-ASSAYFAKE[A-Za-z0-9]{15}$/,
    };
    for (const variant of MUTATION_VARIANTS.injected_secret) {
      const out = applyTo("injected_secret", variant, "text") as string;
      assert.match(out, shapes[variant] as RegExp);
      assert.equal(applyTo("injected_secret", variant, "text"), out);
    }
    const jwt = (applyTo("injected_secret", "jwt", "") as string).split(".");
    assert.deepEqual(JSON.parse(Buffer.from(jwt[0] as string, "base64url").toString()), {
      alg: "HS256",
      typ: "JWT",
    });
    assert.match(JSON.parse(Buffer.from(jwt[1] as string, "base64url").toString()).sub, /^assay-fake-/);
    const a = mutateTrace([{ tool: "t", arguments: { a: "" } }], ["injected_secret"], rngFor(1n));
    const b = mutateTrace([{ tool: "t", arguments: { a: "" } }], ["injected_secret"], rngFor(2n));
    assert.notDeepEqual(a.calls, b.calls);
  });
});

describe("against packs/mcp-baseline.yaml", async () => {
  const policy = compilePolicy([await loadPack("packs/mcp-baseline.yaml")]);
  const effect = (call: Call) => decide(policy, call, { ...call.context }).effect;
  /** Every variant of `kind` at `site` of `call`, split by what the pack decides. */
  function sweep(kind: Mutation, call: Call, site = 0) {
    assert.equal(effect(call), "allow", "the clean call must be allowed");
    const caught: string[] = [];
    const missed: string[] = [];
    for (const variant of MUTATION_VARIANTS[kind])
      (effect(apply(kind, variant, call, site)) === "deny" ? caught : missed).push(variant);
    return { caught, missed };
  }

  test("path_traversal on a workspace read: all caught", () => {
    for (const path of ["/workspace/a.txt", "/workspace/src/a.ts"]) {
      const { missed } = sweep("path_traversal", { tool: "read_file", arguments: { path } });
      // `．．／` (U+FF0E U+FF0E U+FF0F) included: workspace-scope refuses every character NFKC
      // turns into a dot, slash or backslash (this mutation found it let a fullwidth solidus by).
      assert.deepEqual(missed, []);
    }
  });

  test("url_tricks on a fetch and on free text: all caught", () => {
    const url = "https://docs.example.com/deploy";
    assert.deepEqual(sweep("url_tricks", { tool: "fetch", arguments: { url } }).missed, []);
    assert.deepEqual(sweep("url_tricks", { tool: "send_message", arguments: { text: url } }).missed, []);
  });

  test("injected_secret: all caught", () => {
    const { missed } = sweep("injected_secret", {
      tool: "send_message",
      arguments: { text: "build passed" },
    });
    // The JWT included (no-secrets-in-args had no JWT pattern until this mutation found it).
    assert.deepEqual(missed, []);
  });

  test("case_confusable on allowed calls: a defaults-allow pack lets a renamed tool through", () => {
    // A confusable tool name is a tool no rule of this pack names (workspace-scope no longer
    // applies to `r\u0435ad_file`); an application's allowlist pack is what refuses it.
    const read: Call = { tool: "read_file", arguments: { path: "/workspace/a.txt" } };
    assert.deepEqual(sweep("case_confusable", read).caught, []);
    // A zero-width joiner makes the host invalid for the WHATWG parser (CheckJoiners), so the URL
    // does not parse and no-private-egress fails closed; the other spellings are public names.
    const fetch: Call = { tool: "fetch", arguments: { url: "https://docs.example.com/deploy" } };
    assert.deepEqual(sweep("case_confusable", fetch, 1).caught, ["zero-width-joiner"]);
  });

  test("case_confusable on denied tools: every spelling stays denied", () => {
    const still = (tool: string) =>
      MUTATION_VARIANTS.case_confusable.filter(
        (v) => effect(apply("case_confusable", v, { tool, arguments: { command: "ls" } })) === "deny",
      );
    // Deny lists compare folded spellings: NFKC, invisible characters dropped, lookalike letters
    // mapped, case folded with and without camelCase splitting (src/policy/tool-pattern.ts).
    for (const tool of ["bash", "exec", "delete_file"])
      assert.deepEqual(still(tool), MUTATION_VARIANTS.case_confusable);
  });

  test("case_confusable on denied hosts: only the Cyrillic homoglyph gets through", () => {
    // `l\u043Ecalhost` is another (IDN, public) name, not a spelling of localhost: allowing it is
    // right for a pack that does not resolve names. The URL parser folds the rest back.
    for (const url of ["http://localhost:8080/", "http://metadata.google.internal/computeMetadata/v1/"]) {
      const call: Call = { tool: "fetch", arguments: { url } };
      assert.equal(effect(call), "deny");
      const through = MUTATION_VARIANTS.case_confusable.filter(
        (v) => effect(apply("case_confusable", v, call, 1)) !== "deny",
      );
      assert.deepEqual(through, url.includes("localhost") ? ["cyrillic-homoglyph"] : []);
    }
  });
});
