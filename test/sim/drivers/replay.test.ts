import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { serializeSoakReport, soakReportProblems } from "../../../src/sim/soak/report.js";
import { runSoak } from "../../../src/sim/soak/run.js";
import { bundleFromFiles } from "../../../src/sim/target/load.js";

const GUARD = `id: guard
version: "1"
defaults: deny
rules:
  - id: tools
    dimension: security
    severity: high
    tools: { allow: [read_file, http_get] }
  - id: paths
    dimension: security
    severity: critical
    args:
      tools: [read_file]
      schema:
        type: object
        properties:
          path: { type: string, pattern: '^/workspace/[A-Za-z0-9_/-]+(\\.[A-Za-z0-9_-]+)?$' }
        required: [path]
  - id: egress
    dimension: security
    severity: critical
    network: { allow_hosts: [docs.example.com], allow_schemes: [https] }
`;
const SECRETS = `  - id: secrets
    dimension: security
    severity: critical
    args:
      tools: ["*"]
      schema:
        type: object
        additionalProperties:
          not: { type: string, pattern: 'AKIA|ghp_|PRIVATE KEY|xox[abp]-|eyJ' }
`;

const CLEAN = [
  { tool: "read_file", arguments: { path: "/workspace/README.md", note: "summary" } },
  { tool: "http_get", arguments: { url: "https://docs.example.com/deploy" } },
];
const SLIPS = [{ tool: "read_file", arguments: { path: "/etc/passwd" } }];

function bundle(opts: { mutations?: string[]; mutated?: string; secrets?: boolean; traces?: object[][] }) {
  const traces = opts.traces ?? [CLEAN, SLIPS];
  const names = traces.map((_, i) => `traces/t${i}.ndjson`);
  const target = `id: replayed
version: "1"
packs: [guard.yaml]
scenarios:
${names.map((_, i) => `  - { id: s${i}, dimension: security }`).join("\n")}
canaries:
  - { id: etc-flagged, expect: flagged, rules: [paths], trace: [{ tool: read_file, arguments: { path: /etc/shadow } }] }
decision_policy: { severity_floor: high, min_pass_rate: 0.5, ci_lower_floor: 0.1 }
driver:
  kind: replay
  replay:
    traces: [${names.join(", ")}]
    mutations: [${(opts.mutations ?? []).join(", ")}]
${opts.mutated === undefined ? "" : `    mutated: ${opts.mutated}\n`}`;
  const files = new Map<string, Buffer>([
    ["assay-target.yaml", Buffer.from(target)],
    ["guard.yaml", Buffer.from(opts.secrets === false ? GUARD : GUARD + SECRETS)],
    ...names.map((n, i): [string, Buffer] => [
      n,
      Buffer.from((traces[i] as object[]).map((c) => JSON.stringify(c)).join("\n")),
    ]),
  ]);
  return bundleFromFiles(files, { root: "mem", kind: "directory" });
}

const soak = (b: ReturnType<typeof bundle>, seed = 1n, iterations = 200) =>
  runSoak({ bundle: b, iterations, seed, assayVersion: "test", deterministic: true });

describe("the replay driver", () => {
  test("without mutations every trial replays its trace as recorded", async () => {
    const { report } = await soak(bundle({}));
    assert.deepEqual(soakReportProblems(report), []);
    const byScenario = (id: string) => (report.trials ?? []).filter((t) => t.trial_id?.startsWith(`${id}#`));
    assert.ok(byScenario("s0").every((t) => t.outcome === "pass"));
    assert.ok(byScenario("s1").every((t) => t.outcome === "fail"));
    assert.equal(report.summary.pass_rate, 0.5);
    assert.deepEqual(
      (report.violations ?? []).map((v) => [v.rule_id, v.count]),
      [["paths", 100]],
    );
  });

  test("mutations are seeded: same seed, same report; another seed, another; examples name the mutation", async () => {
    const b = bundle({ mutations: ["path_traversal", "case_confusable", "url_tricks", "injected_secret"] });
    const a = serializeSoakReport((await soak(b, 5n)).report);
    assert.equal(serializeSoakReport((await soak(b, 5n)).report), a);
    assert.notEqual(serializeSoakReport((await soak(b, 6n)).report), a);
    const { report } = await soak(b, 5n);
    const examples = (report.violations ?? []).flatMap((v) => v.examples ?? []);
    assert.ok(examples.length > 0);
    for (const e of examples) {
      assert.match(
        e,
        /^trial \d+ \(s[01]\) \[(path_traversal|case_confusable|url_tricks|injected_secret)\/[a-z0-9-]+ at call \d+ (tool|arguments\.[a-z]+)\]/,
      );
    }
    // The clean trace, perturbed, now breaks rules it kept as recorded.
    const s0 = (report.trials ?? []).filter((t) => t.trial_id?.startsWith("s0#"));
    assert.ok(s0.some((t) => t.outcome === "fail") && s0.some((t) => t.outcome === "pass"));
  });

  test("must_flag: a mutation the policy catches passes the trial; one it misses is `mutation_not_caught`", async () => {
    // One free-text argument, only secrets: every trial has one site, so every trial is an attack
    // that only a secrets rule can catch (in a path or URL, other rules would catch it too).
    const note = [{ tool: "http_get", arguments: { note: "weather in Lisbon" } }];
    const only = { traces: [note], mutations: ["injected_secret"], mutated: "must_flag" };
    const caught = (await soak(bundle({ ...only, secrets: true }), 3n, 100)).report;
    assert.equal(caught.summary.pass_rate, 1);
    assert.deepEqual(caught.violations ?? [], []);
    const missed = (await soak(bundle({ ...only, secrets: false }), 3n, 100)).report;
    assert.equal(missed.summary.pass_rate, 0);
    assert.deepEqual(
      (missed.violations ?? []).map((v) => [v.rule_id, v.count]),
      [["mutation_not_caught", 100]],
    );
    assert.match(
      missed.violations?.[0]?.examples?.[0] ?? "",
      /\[injected_secret\/[a-z-]+ at call 0 arguments\.note\]/,
    );
  });

  test("must_flag: the recorded trace's own violations still count, and a trace with no site is judged as recorded", async () => {
    // SLIPS breaks `paths` as recorded. Mutated, that violation is not the mutation's catch: the
    // trial fails on the recorded violation whatever the mutation did.
    const mutated = await soak(
      bundle({ traces: [SLIPS], mutations: ["path_traversal"], mutated: "must_flag" }),
      1n,
      10,
    );
    assert.equal(mutated.report.summary.pass_rate, 0);
    const paths = (mutated.report.violations ?? []).find((v) => v.rule_id === "paths");
    assert.equal(paths?.count, 10);
    assert.match(
      paths?.examples?.[0] ?? "",
      /^trial 1 \(s0\) \[path_traversal\/[a-z0-9-]+ at call 0 arguments\.path\] call 0 /,
    );
    // SLIPS has no URL: url_tricks finds no site, the trace replays as recorded and fails on `paths`.
    const b = bundle({ traces: [SLIPS], mutations: ["url_tricks"], mutated: "must_flag" });
    const { report } = await soak(b, 1n, 10);
    assert.equal(report.summary.pass_rate, 0);
    assert.deepEqual(
      (report.violations ?? []).map((v) => v.rule_id),
      ["paths"],
    );
    assert.ok((report.violations?.[0]?.examples ?? []).every((e) => !/\) \[[a-z_]+\//.test(e)));
  });
});
