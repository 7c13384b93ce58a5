import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Ajv2020 } from "ajv/dist/2020.js";
import { suiteTempDir } from "../temp-dir.js";
import { sample, until } from "./fixtures-idp.js";
import { call, DEV_TOKEN, devYaml, ROOT, startFromYaml } from "./service-harness.js";

const responses = JSON.parse(readFileSync(join(ROOT, "schemas/serve-responses.schema.json"), "utf8"));
const plan = JSON.parse(readFileSync(join(ROOT, "schemas/adapt-plan.schema.json"), "utf8"));
const ajv = new Ajv2020({ strict: false });
ajv.addSchema(responses);
ajv.addSchema(plan);
function conforms(def: string, value: unknown): void {
  const validate = ajv.getSchema(`https://assay.dev/schemas/serve-responses.schema.json#/$defs/${def}`);
  assert.ok(validate, def);
  assert.ok(validate(value), `${def}: ${JSON.stringify(validate.errors)}`);
}

const contexts = JSON.parse(
  `[${["context_ok", "context_high_risk", "context_direct"].map((n) => readFileSync(join(ROOT, `examples/adapt/${n}.json`), "utf8")).join(",")}]`,
) as Record<string, unknown>[];

describe("assay serve: routes (dev profile)", () => {
  const dir = suiteTempDir("assay-serve-");
  let svc: Awaited<ReturnType<typeof startFromYaml>>;
  before(async () => {
    svc = await startFromYaml(dir, devYaml("limits: { body_bytes: 4096 }"));
  });
  after(() => svc.close());

  test("verify's answer and log line keep their keys in one order: plain, planned, and a context that cannot be planned", async () => {
    const LOG_ORDER = [
      "policy_digest",
      "verdict",
      "rule_id",
      "reason_code",
      "adaptive",
      "context_digest",
      "active_rules",
      "adaptive_fallback",
    ];
    const cases = [
      {
        body: '{"policy":"mcp-baseline","call":{"tool":"read_file","arguments":{"path":"/workspace/a"}}}',
        answer: ["policy", "verdict", "decision"],
        logged: ["policy_digest", "verdict", "reason_code"],
      },
      {
        body: JSON.stringify({
          policy: "lksg.v1",
          context: contexts[0],
          adaptive: true,
          call: { tool: "approve_supplier", arguments: { audit_age_days: 10 } },
        }),
        answer: ["policy", "verdict", "decision", "plan"],
        logged: ["policy_digest", "verdict", "reason_code", "adaptive", "context_digest", "active_rules"],
      },
      {
        body: '{"policy":"mcp-baseline","call":{"tool":"read_file","arguments":{"path":"/workspace/a"}},"context":{"x":1e400},"adaptive":true}',
        answer: ["policy", "verdict", "decision"],
        logged: ["policy_digest", "verdict", "reason_code", "adaptive", "adaptive_fallback"],
      },
    ];
    for (const c of cases) {
      const res = await call(svc, "POST", "/v1/verify", c.body);
      assert.equal(res.status, 200, res.text);
      const answer = JSON.parse(res.text) as Record<string, unknown>;
      assert.deepEqual(Object.keys(answer), c.answer, c.body);
      // The bytes are JSON.stringify's of those keys in that order: no other encoder in between.
      assert.equal(res.text, JSON.stringify(answer));
      const id = res.headers.get("x-request-id");
      const find = () => svc.logs().find((l) => l.request_id === id && l.msg === "request");
      await until(() => find() !== undefined);
      const line = find() as Record<string, unknown>;
      const keys = Object.keys(line).filter((k) => LOG_ORDER.includes(k));
      for (const k of c.logged) assert.ok(keys.includes(k), `${k} in ${JSON.stringify(line)}`);
      assert.deepEqual(
        keys,
        LOG_ORDER.filter((k) => keys.includes(k)),
        `log fields out of order: ${JSON.stringify(line)}`,
      );
    }
  });

  test("verify decides a call: allow, and deny naming the rule that fired", async () => {
    const ok = await call(svc, "POST", "/v1/verify", {
      policy: "mcp-baseline",
      call: { tool: "read_file", arguments: { path: "/workspace/README.md" } },
    });
    assert.equal(ok.status, 200);
    const allow = (await ok.json()) as { verdict: string; policy: { id: string; digest: string } };
    conforms("verifyCallResponse", allow);
    assert.equal(allow.verdict, "allow");
    assert.equal(allow.policy.id, "mcp-baseline");
    const no = await call(svc, "POST", "/v1/verify", {
      policy: "mcp-baseline",
      call: { tool: "read_file", arguments: { path: "/workspace/../etc/shadow" } },
    });
    const deny = (await no.json()) as {
      verdict: string;
      decision: { rule_id: string; policy_digest: string };
    };
    conforms("verifyCallResponse", deny);
    assert.equal(deny.verdict, "deny");
    assert.equal(deny.decision.rule_id, "workspace-scope");
    assert.equal(deny.decision.policy_digest, allow.policy.digest);
    assert.equal(no.headers.get("x-request-id")?.length, 36);
  });

  test("adaptive: the same verdict and decision as without the planner, for every call and context", async () => {
    const calls = [
      {
        tool: "approve_supplier",
        arguments: { audit_age_days: 10, region: "EU", code_of_conduct_signed: true },
      },
      { tool: "approve_supplier", arguments: { audit_age_days: 900 } },
      {
        tool: "approve_supplier",
        arguments: { audit_age_days: 10, region: "conflict_zone_a", smelter_list: [] },
      },
      { tool: "place_order", arguments: { amount_eur: 250000 } },
      { tool: "export_worker_data", arguments: {} },
      { tool: "screen_sanctions", arguments: {} },
    ];
    let planned = 0;
    for (const context of contexts) {
      for (const c of calls) {
        const plain = (await (
          await call(svc, "POST", "/v1/verify", { policy: "lksg.v1", call: c, context })
        ).json()) as Record<string, unknown>;
        const res = await call(svc, "POST", "/v1/verify", {
          policy: "lksg.v1",
          call: c,
          context,
          adaptive: true,
        });
        const adaptive = (await res.json()) as Record<string, unknown> & {
          plan?: { active_rules: string[] };
        };
        conforms("verifyCallResponse", adaptive);
        assert.deepEqual(adaptive.decision, plain.decision, `${c.tool} in ${JSON.stringify(context)}`);
        assert.equal(adaptive.verdict, plain.verdict);
        assert.ok(adaptive.plan && !("plan" in plain));
        if (adaptive.plan.active_rules.length < 8) planned++;
      }
    }
    // The planner really skipped rules somewhere (else this test would compare two full runs).
    assert.ok(planned > 0);
  });

  test("verify checks a trace, with and without the planner alike", async () => {
    const trace = {
      calls: [
        { tool: "approve_supplier", arguments: { audit_age_days: 10, code_of_conduct_signed: true } },
        { tool: "screen_sanctions", arguments: {} },
      ],
    };
    for (const context of contexts) {
      const plain = (await (
        await call(svc, "POST", "/v1/verify", { policy: "lksg.v1", trace, context })
      ).json()) as {
        verdict: string;
        violations: { rule_id: string }[];
      };
      conforms("verifyTraceResponse", plain);
      assert.equal(plain.verdict, "deny");
      assert.ok(plain.violations.some((v) => v.rule_id === "no_sanctions"));
      const adaptive = await (
        await call(svc, "POST", "/v1/verify", { policy: "lksg.v1", trace, context, adaptive: true })
      ).json();
      assert.deepEqual(adaptive, plain);
    }
    const clean = (await (
      await call(svc, "POST", "/v1/verify", {
        policy: "lksg.v1",
        trace: [{ tool: "screen_sanctions" }],
        context: contexts[0],
      })
    ).json()) as { verdict: string; calls: number };
    assert.deepEqual([clean.verdict, clean.calls], ["allow", 1]);
  });

  test("a body that fails its schema gets 400 with the JSON pointer of the fault", async () => {
    const cases: [unknown, string][] = [
      [{ policy: "mcp-baseline", call: { tool: 7 } }, "/call/tool"],
      [{ policy: "mcp-baseline", call: { tool: "x" }, adaptiv: true }, "/adaptiv"],
      [{ policy: "mcp-baseline", trace: [{ tool: "a" }, { arguments: {} }] }, "/trace/1"],
      [{ policy: "mcp-baseline", call: { tool: "x" }, trace: [] }, ""],
      [{ policy: "mcp-baseline" }, ""],
      [{ call: { tool: "x" } }, ""],
    ];
    for (const [body, pointer] of cases) {
      const res = await call(svc, "POST", "/v1/verify", body);
      assert.equal(res.status, 400, JSON.stringify(body));
      const err = (await res.json()) as { error: { code: string; pointer: string; message: string } };
      conforms("error", err);
      assert.equal(err.error.code, "body_invalid");
      assert.equal(err.error.pointer, pointer, `${JSON.stringify(body)}: ${err.error.message}`);
    }
    const bad = await call(svc, "POST", "/v1/verify", "{not json");
    assert.equal(bad.status, 400);
    conforms("error", await bad.json());
  });

  test("413 over the body limit, 415 for a body that is not JSON, 404 for an unknown policy or route", async () => {
    const big = await call(svc, "POST", "/v1/verify", {
      policy: "mcp-baseline",
      call: { tool: "x", arguments: { a: "x".repeat(5000) } },
    });
    assert.equal(big.status, 413);
    assert.equal(((await big.json()) as { error: { code: string } }).error.code, "body_too_large");
    const text = await call(svc, "POST", "/v1/verify", "policy=x", { "content-type": "text/plain" });
    assert.equal(text.status, 415);
    const missing = await call(svc, "POST", "/v1/verify", { policy: "nope", call: { tool: "x" } });
    assert.equal(missing.status, 404);
    assert.deepEqual(((await missing.json()) as { error: unknown }).error, {
      code: "policy_not_found",
      message: "no policy `nope` is loaded (GET /v1/policies lists them)",
      pointer: "/policy",
    });
    assert.equal((await call(svc, "GET", "/v1/nothing")).status, 404);
    const badUrl = await call(svc, "GET", "/v1/policies/%ZZ");
    assert.equal(badUrl.status, 400);
    assert.equal(((await badUrl.json()) as { error: { code: string } }).error.code, "bad_url");
    assert.equal(badUrl.headers.get("x-request-id")?.length, 36);
  });

  test("adapt returns the planner's plan", async () => {
    const res = await call(svc, "POST", "/v1/adapt", { policy: "lksg.v1", context: contexts[0] });
    assert.equal(res.status, 200);
    const body = await res.json();
    const expected = JSON.parse(
      readFileSync(join(ROOT, "examples/adapt/plans/context_ok.plan.json"), "utf8"),
    );
    assert.deepEqual(body, expected);
  });

  test("policies: list, get, load (201 new, 200 cached), and a pack that does not compile", async () => {
    const list = (await (await call(svc, "GET", "/v1/policies")).json()) as { policies: { id: string }[] };
    conforms("policyList", list);
    assert.deepEqual(
      list.policies.map((p) => p.id),
      ["lksg.v1", "mcp-baseline"],
    );
    const one = (await (await call(svc, "GET", "/v1/policies/lksg.v1")).json()) as {
      rules: { total: number; by_kind: Record<string, number> };
    };
    conforms("policySummary", one);
    assert.equal(one.rules.total, 8);
    assert.equal((await call(svc, "GET", "/v1/policies/none")).status, 404);

    const pack =
      'id: tiny\nversion: "1.0.0"\ndefaults: deny\nrules:\n  - id: reads\n    dimension: safety\n    severity: low\n    tools: { allow: ["read_*"] }\n';
    const first = await call(svc, "POST", "/v1/policies", { packs: [pack] });
    assert.equal(first.status, 201);
    const loaded = (await first.json()) as {
      created: boolean;
      cached: boolean;
      policy: { id: string; source: string };
    };
    conforms("policyLoaded", loaded);
    assert.deepEqual(
      [loaded.created, loaded.cached, loaded.policy.id, loaded.policy.source],
      [true, false, "tiny", "api"],
    );
    const again = await call(svc, "POST", "/v1/policies", { packs: [pack] });
    assert.equal(again.status, 200);
    assert.deepEqual(((await again.json()) as { cached: boolean }).cached, true);
    const verdict = (await (
      await call(svc, "POST", "/v1/verify", { policy: "tiny", call: { tool: "exec" } })
    ).json()) as { verdict: string };
    assert.equal(verdict.verdict, "deny");

    const hijack = await call(svc, "POST", "/v1/policies", { id: "mcp-baseline", packs: [pack] });
    assert.equal(hijack.status, 409);
    assert.equal(((await hijack.json()) as { error: { code: string } }).error.code, "policy_from_config");

    const broken = await call(svc, "POST", "/v1/policies", { packs: [pack.replace("tools: {", "toolz: {")] });
    assert.equal(broken.status, 400);
    const err = (await broken.json()) as { error: { code: string; where: string[] } };
    conforms("error", err);
    assert.match(err.error.code, /^pack_/);
    assert.match(err.error.where[0] as string, /^packs\/0:5:\d+: rules\[0\]: /);
  });

  test("no token or a wrong token: 401 with WWW-Authenticate; probes need none", async () => {
    const none = await call(svc, "GET", "/v1/policies", undefined, { authorization: "" });
    assert.equal(none.status, 401);
    assert.match(none.headers.get("www-authenticate") ?? "", /^Bearer realm="assay"/);
    const wrong = await call(svc, "GET", "/v1/policies", undefined, {
      authorization: "Bearer not-the-dev-token-at-all",
    });
    assert.equal(wrong.status, 401);
    assert.match(wrong.headers.get("www-authenticate") ?? "", /error="invalid_token"/);
    for (const path of ["/healthz", "/readyz", "/metrics", "/openapi.json"]) {
      assert.equal((await call(svc, "GET", path, undefined, { authorization: "" })).status, 200, path);
    }
    const ready = await (await call(svc, "GET", "/readyz")).json();
    conforms("readiness", ready);
    assert.deepEqual(ready, {
      ready: true,
      checks: { policies: 3, jwks: "not_configured", draining: false },
    });
  });

  test("metrics count requests by route and outcome, caches, compiles and auth failures, with bounded labels", async () => {
    const text = (await call(svc, "GET", "/metrics")).text;
    const value = (series: string) => {
      const line = text.split("\n").find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.split(" ")[1]);
    };
    assert.ok(
      (value('assay_verify_requests_total{route="verify",outcome="allow"}') ?? 0) >= 1,
      'assay_verify_requests_total{route="verify",outcome="allow"}',
    );
    assert.ok(
      (value('assay_verify_requests_total{route="verify",outcome="deny"}') ?? 0) >= 1,
      'assay_verify_requests_total{route="verify",outcome="deny"}',
    );
    assert.ok(
      (value('assay_verify_requests_total{route="verify",outcome="invalid"}') ?? 0) >= 6,
      'assay_verify_requests_total{route="verify",outcome="invalid"}',
    );
    assert.ok(
      (value('assay_verify_requests_total{route="policies_list",outcome="unauthorized"}') ?? 0) >= 2,
      'assay_verify_requests_total{route="policies_list",outcome="unauthorized"}',
    );
    assert.ok(
      (value('assay_policy_cache_hits_total{cache="plan"}') ?? 0) >= 1,
      'assay_policy_cache_hits_total{cache="plan"}',
    );
    assert.ok(
      (value('assay_policy_cache_misses_total{cache="plan"}') ?? 0) >= 1,
      'assay_policy_cache_misses_total{cache="plan"}',
    );
    assert.ok(
      (value('assay_policy_cache_hits_total{cache="compiled"}') ?? 0) >= 1,
      'assay_policy_cache_hits_total{cache="compiled"}',
    );
    assert.ok(
      (value('assay_policy_compile_total{outcome="ok"}') ?? 0) >= 3,
      'assay_policy_compile_total{outcome="ok"}',
    );
    assert.ok(
      (value('assay_policy_compile_total{outcome="error"}') ?? 0) >= 1,
      'assay_policy_compile_total{outcome="error"}',
    );
    assert.ok(
      (value('assay_auth_failures_total{reason="missing"}') ?? 0) >= 1,
      'assay_auth_failures_total{reason="missing"}',
    );
    assert.ok((value('adapt_plans_total{selector="basic"}') ?? 0) >= 1);
    assert.ok(text.includes('assay_verify_duration_seconds_bucket{le="0.5",route="verify"}'));
    // No label value carries a rule id, a subject or a token.
    for (const bad of ["workspace-scope", "no_sanctions", DEV_TOKEN, 'subject="'])
      assert.ok(!text.includes(bad), bad);
  });

  test("logs: JSON lines with request id, policy digest and active rules; never the token, context or arguments", async () => {
    await call(svc, "POST", "/v1/verify", {
      policy: "lksg.v1",
      call: {
        tool: "approve_supplier",
        arguments: { audit_age_days: 271828182845, secret_arg: "SECRET-ARGUMENT" },
      },
      context: { supplier: { id: "SECRET-SUPPLIER", tier: 1 } },
      adaptive: true,
    });
    const lines = svc.logs();
    const line = lines.filter((l) => l.msg === "request" && l.route === "/v1/verify").at(-1) as Record<
      string,
      unknown
    >;
    assert.equal(typeof line.request_id, "string");
    assert.match(String(line.policy_digest), /^sha256:[0-9a-f]{64}$/);
    assert.ok(
      Array.isArray(line.active_rules) &&
        (line.active_rules as string[]).includes("direct_supplier_contract"),
    );
    const all = lines.map((l) => JSON.stringify(l)).join("\n");
    for (const secret of [DEV_TOKEN, "SECRET-ARGUMENT", "SECRET-SUPPLIER", "271828182845"])
      assert.ok(!all.includes(secret), secret);
  });

  test("the OpenAPI document: every reference resolves and every body schema compiles", async () => {
    const doc = (await (await call(svc, "GET", "/openapi.json")).json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: Record<string, unknown> };
    };
    assert.equal(doc.openapi, "3.1.0");
    const refs = JSON.stringify(doc).match(/"\$ref":"([^"]+)"/g) ?? [];
    assert.ok(refs.length > 10);
    for (const r of refs) {
      const name = r.slice('"$ref":"#/components/schemas/'.length, -1);
      assert.ok(name in doc.components.schemas, r);
    }
    const a = new Ajv2020({ strict: false });
    a.addSchema({ $id: "https://assay.test/openapi", components: doc.components });
    for (const name of Object.keys(doc.components.schemas)) {
      assert.ok(a.getSchema(`https://assay.test/openapi#/components/schemas/${name}`), name);
    }
    const verify = a.getSchema("https://assay.test/openapi#/components/schemas/VerifyRequest");
    assert.ok(verify?.({ policy: "p", call: { tool: "t" } }));
    assert.ok(!verify?.({ policy: "p", call: { tool: 1 } }));
    for (const p of [
      "/v1/verify",
      "/v1/adapt",
      "/v1/policies",
      "/v1/policies/{id}",
      "/healthz",
      "/readyz",
      "/metrics",
    ]) {
      assert.ok(p in doc.paths, p);
    }
  });
});

describe("assay serve: limits, features, shutdown", () => {
  const dir = suiteTempDir("assay-serve-");

  test("a client over the rate limit gets 429; probes are not limited", async () => {
    const svc = await startFromYaml(dir, devYaml("limits: { rate: { max: 3, window_seconds: 60 } }"));
    try {
      const statuses: number[] = [];
      // One budget across the /v1 routes, not one per route.
      const paths = [
        "/v1/policies",
        "/v1/policies/lksg.v1",
        "/v1/policies/mcp-baseline",
        "/v1/policies",
        "/v1/policies/lksg.v1",
      ];
      for (const path of paths) statuses.push((await call(svc, "GET", path)).status);
      assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
      const limited = await call(svc, "GET", "/v1/policies");
      assert.equal(((await limited.json()) as { error: { code: string } }).error.code, "rate_limited");
      for (let i = 0; i < 5; i++) assert.equal((await call(svc, "GET", "/healthz")).status, 200);
    } finally {
      await svc.close();
    }
  });

  test("limits.max_policies: a new policy beyond it gets 409; replacing a loaded one does not count", async () => {
    const svc = await startFromYaml(dir, devYaml("limits: { max_policies: 3 }"));
    try {
      const pack = (id: string) =>
        `id: ${id}\nversion: "1"\ndefaults: allow\nrules:\n  - id: r\n    dimension: safety\n    severity: low\n    tools: { deny: [x] }\n`;
      assert.equal((await call(svc, "POST", "/v1/policies", { packs: [pack("one")] })).status, 201);
      assert.equal(
        (await call(svc, "POST", "/v1/policies", { packs: [pack("one").replace('"1"', '"2"')] })).status,
        200,
      );
      const over = await call(svc, "POST", "/v1/policies", { packs: [pack("two")] });
      assert.equal(over.status, 409);
      assert.equal(((await over.json()) as { error: { code: string } }).error.code, "too_many_policies");
    } finally {
      await svc.close();
    }
  });

  test("adaptive: a context the planner cannot digest is decided without a plan, never a 5xx", async () => {
    const svc = await startFromYaml(dir, devYaml());
    try {
      const call1 = '"call":{"tool":"read_file","arguments":{"path":"/workspace/a"}}';
      const huge = `{"policy":"mcp-baseline",${call1},"context":{"x":1e400}`;
      const plain = await call(svc, "POST", "/v1/verify", `${huge}}`);
      const adaptive = await call(svc, "POST", "/v1/verify", `${huge},"adaptive":true}`);
      assert.equal(adaptive.status, 200);
      const a = (await adaptive.json()) as Record<string, unknown>;
      assert.deepEqual(a, await plain.json());
      assert.ok(!("plan" in a));
      const deep = `${'{"a":'.repeat(50_000)}1${"}".repeat(50_000)}`;
      const nested = `{"policy":"mcp-baseline",${call1},"context":${deep}`;
      const deepPlain = await call(svc, "POST", "/v1/verify", `${nested}}`);
      const deepAdaptive = await call(svc, "POST", "/v1/verify", `${nested},"adaptive":true}`);
      assert.equal(deepAdaptive.status, deepPlain.status);
      assert.deepEqual(await deepAdaptive.json(), await deepPlain.json());
      // Where the plan is the answer, the body is refused instead.
      const plan = await call(svc, "POST", "/v1/adapt", '{"policy":"mcp-baseline","context":{"x":1e400}}');
      assert.equal(plan.status, 400);
      assert.equal(((await plan.json()) as { error: { pointer: string } }).error.pointer, "/context");
      assert.ok((await sample(svc.metrics, "adapt_selection_failures_total")) >= 2);
      assert.equal(
        await sample(svc.metrics, "assay_verify_requests_total", 'route="verify",outcome="error"'),
        0,
      );
    } finally {
      await svc.close();
    }
  });

  test("adaptive trace: the trace's context is planned once, whatever the number of calls", async () => {
    const svc = await startFromYaml(dir, devYaml());
    try {
      const lookups = async () =>
        (await sample(svc.metrics, "assay_policy_cache_hits_total", 'cache="plan"')) +
        (await sample(svc.metrics, "assay_policy_cache_misses_total", 'cache="plan"'));
      const before = await lookups();
      const calls = Array.from({ length: 2000 }, (_, i) => ({
        tool: i % 2 ? "screen_sanctions" : "approve_supplier",
        arguments: {},
      }));
      const context = { supplier: { tier: 1, region: "EU" }, notes: "n".repeat(50_000) };
      const res = await call(svc, "POST", "/v1/verify", {
        policy: "lksg.v1",
        adaptive: true,
        trace: { calls, context },
      });
      assert.equal(res.status, 200);
      assert.equal(await lookups(), before + 1);
      const plain = await call(svc, "POST", "/v1/verify", { policy: "lksg.v1", trace: { calls, context } });
      assert.deepEqual(await res.json(), await plain.json());
    } finally {
      await svc.close();
    }
  });

  test("features.runtime_policy_load: false refuses POST /v1/policies with 403", async () => {
    const svc = await startFromYaml(dir, devYaml("features: { runtime_policy_load: false }"));
    try {
      const res = await call(svc, "POST", "/v1/policies", { packs: ["id: x"] });
      assert.equal(res.status, 403);
      assert.equal(
        ((await res.json()) as { error: { code: string } }).error.code,
        "runtime_policy_load_disabled",
      );
    } finally {
      await svc.close();
    }
  });

  test("close (SIGTERM): readiness false at once, an in-flight request still completes, then the port is closed", async () => {
    const svc = await startFromYaml(dir, devYaml());
    const { port } = new URL(svc.url);
    const body = JSON.stringify({
      policy: "mcp-baseline",
      call: { tool: "read_file", arguments: { path: "/workspace/a" } },
    });
    // A request whose body is still arriving when shutdown starts.
    const inflight = new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = httpRequest(
        {
          host: "127.0.0.1",
          port,
          method: "POST",
          path: "/v1/verify",
          headers: {
            authorization: `Bearer ${DEV_TOKEN}`,
            "content-type": "application/json",
            "content-length": Buffer.byteLength(body),
          },
        },
        (res) => {
          let text = "";
          res.on("data", (c: Buffer) => {
            text += c.toString();
          });
          res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on("error", reject);
      req.write(body.slice(0, 10));
      setTimeout(() => req.end(body.slice(10)), 300);
    });
    await new Promise((r) => setTimeout(r, 100));
    const closed = svc.close();
    assert.match(await svc.metrics.registry.getSingleMetricAsString("assay_ready"), /assay_ready 0/);
    const done = await inflight;
    assert.equal(done.status, 200);
    assert.equal(JSON.parse(done.body).verdict, "allow");
    await closed;
    await assert.rejects(fetch(`${svc.url}/healthz`));
  });
});
