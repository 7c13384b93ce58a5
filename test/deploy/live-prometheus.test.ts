import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { after, before, describe, test } from "node:test";
import { freePort } from "../free-port.js";
import { ASSAY_BIN, ROOT } from "../run-assay.js";
import { startIdp, type TestIdp } from "../serve/fixtures-idp.js";
import { suiteTempDir } from "../temp-dir.js";
import { ruleFileYaml, shortenedAlertRules } from "./alert-rules.js";
import { dashboardQueries } from "./dashboard-queries.js";

/**
 * A real Prometheus on 127.0.0.1 scraping a real `assay serve` (the CLI, in its own process) that
 * checks real OAuth2 tokens against a real provider. Traffic runs throughout; stopping the provider
 * (once the service's 1 s key cache has expired, protected routes fail closed with 503) is the
 * injected failure. Time is compressed: deploy/prometheus/alerts.yaml with every `for:` and range
 * divided by 60 (5m becomes 5s), scraped and evaluated every second.
 */
const FACTOR = 60;
const ALERT = "AssayServeErrorRateHigh";

const missing = ["prometheus", "promtool"].find((t) => spawnSync(t, ["--version"]).error !== undefined);

async function waitFor<T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("live: Prometheus scraping assay serve", {
  skip: missing && `${missing} not installed (Debian package prometheus)`,
}, () => {
  const dir = suiteTempDir("assay-live-prom-");
  let idp: TestIdp;
  let serve: ChildProcess;
  let prom: ChildProcess;
  let serveUrl: string;
  let promUrl: string;
  let stopTraffic = false;
  let traffic: Promise<void>;
  const statuses = new Map<number, number>();

  const query = async (expr: string) => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as { status: string; error?: string; data: { result: unknown[] } };
    if (body.status !== "success") throw new Error(`${expr}: ${body.error}`);
    return body.data.result;
  };
  const alertState = async (): Promise<string> => {
    const body = (await (await fetch(`${promUrl}/api/v1/alerts`)).json()) as {
      data: { alerts: { labels: { alertname: string }; state: string }[] };
    };
    return body.data.alerts.find((a) => a.labels.alertname === ALERT)?.state ?? "inactive";
  };

  before(async () => {
    idp = await startIdp({ audience: "assay" });
    const config = join(dir, "serve.yaml");
    writeFileSync(
      config,
      [
        "profile: dev",
        "listen: 127.0.0.1:0",
        "policies:",
        `  - ${join(ROOT, "packs/mcp-baseline.yaml")}`,
        `  - ${join(ROOT, "examples/adapt/lksg.v1.yaml")}`,
        "auth:",
        `  issuer: ${idp.issuer}`,
        "  audience: assay",
        "  cache_ttl_seconds: 1",
        "  refetch_min_interval_seconds: 0",
        "  fetch_retries: 1",
        "  fetch_timeout_ms: 300",
        "log_level: warn",
      ].join("\n"),
    );
    const port = await freePort();
    serveUrl = `http://127.0.0.1:${port}`;
    serve = spawn(
      process.execPath,
      [ASSAY_BIN, "serve", "--config", config, "--listen", `127.0.0.1:${port}`],
      {
        stdio: ["ignore", "pipe", "inherit"],
      },
    );
    createInterface({ input: serve.stdout as NodeJS.ReadableStream }).on("line", () => {});
    await waitFor("assay serve to be ready", 20_000, async () =>
      (await fetch(`${serveUrl}/readyz`)).ok ? true : undefined,
    );

    writeFileSync(join(dir, "alerts.yaml"), ruleFileYaml(shortenedAlertRules(FACTOR)));
    writeFileSync(
      join(dir, "prometheus.yml"),
      [
        "global: { scrape_interval: 1s, evaluation_interval: 1s }",
        "rule_files: [alerts.yaml]",
        "scrape_configs:",
        "  - job_name: assay-serve",
        `    static_configs: [{ targets: ["127.0.0.1:${port}"], labels: { namespace: live-test } }]`,
      ].join("\n"),
    );
    const check = spawnSync("promtool", ["check", "config", join(dir, "prometheus.yml")], {
      encoding: "utf8",
    });
    assert.equal(check.status, 0, check.stdout + check.stderr);
    const promPort = await freePort();
    promUrl = `http://127.0.0.1:${promPort}`;
    prom = spawn(
      "prometheus",
      [
        `--config.file=${join(dir, "prometheus.yml")}`,
        `--storage.tsdb.path=${join(dir, "tsdb")}`,
        `--web.listen-address=127.0.0.1:${promPort}`,
        "--log.level=warn",
      ],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    let promLog = "";
    prom.stderr?.on("data", (c: Buffer) => {
      promLog = (promLog + c.toString()).slice(-4000);
    });
    prom.once("exit", (code) => {
      if (!stopTraffic) console.error(`prometheus exited early (${code}): ${promLog}`);
    });

    const token = await idp.token("verify:run policy:read", { audience: "assay" });
    const post = (body: unknown, auth = `Bearer ${token}`) =>
      fetch(`${serveUrl}/v1/verify`, {
        method: "POST",
        headers: { authorization: auth, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const mix = [
      () =>
        post({ policy: "mcp-baseline", call: { tool: "read_file", arguments: { path: "/workspace/a" } } }),
      () => post({ policy: "mcp-baseline", call: { tool: "read_file", arguments: { path: "/etc/shadow" } } }),
      () =>
        post({
          policy: "lksg.v1",
          context: { supplier: { tier: 1, region: "EU" } },
          adaptive: true,
          call: { tool: "place_order", arguments: { amount_eur: 500000 } },
        }),
      () => post({ policy: "mcp-baseline", call: { tool: "x" } }, "Bearer not-a-token"),
      () => fetch(`${serveUrl}/v1/policies`, { headers: { authorization: `Bearer ${token}` } }),
      () => post({ policy: "mcp-baseline", call: { tool: 1 } }),
    ];
    // About 100 requests a second, for as long as the test runs.
    traffic = (async () => {
      for (let i = 0; !stopTraffic; i++) {
        const res = await (mix[i % mix.length] as () => Promise<Response>)().catch(() => undefined);
        if (res) {
          await res.arrayBuffer();
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await waitFor("Prometheus to scrape the service", 30_000, async () => {
      const up = (await query('up{job="assay-serve"}')) as { value: [number, string] }[];
      return up[0]?.value[1] === "1" ? true : undefined;
    });
  });

  after(async () => {
    stopTraffic = true;
    await traffic;
    prom?.kill("SIGTERM");
    serve?.kill("SIGTERM");
    await idp?.close();
  });

  test("the error-rate alert fires when the IdP fails (503s) and resolves when it recovers", async () => {
    await new Promise((r) => setTimeout(r, 3000));
    assert.equal(await alertState(), "inactive");
    const before503 = statuses.get(503) ?? 0;
    await idp.stop();
    await waitFor(`${ALERT} to fire`, 45_000, async () =>
      (await alertState()) === "firing" ? true : undefined,
    );
    assert.ok(
      (statuses.get(503) ?? 0) > before503,
      "the service failed closed with 503 while the IdP was down",
    );
    await idp.restart();
    await waitFor(`${ALERT} to resolve`, 45_000, async () =>
      (await alertState()) === "inactive" ? true : undefined,
    );
    const ok = statuses.get(200) ?? 0;
    await new Promise((r) => setTimeout(r, 500));
    assert.ok((statuses.get(200) ?? 0) > ok, "answers are 200 again");
  });

  test("every Grafana panel's query returns data under this traffic", async () => {
    const queries = dashboardQueries();
    assert.ok(queries.length >= 10);
    const empty: string[] = [];
    for (const { panel, expr } of queries) {
      const result = await query(expr);
      if (result.length === 0) empty.push(`${panel}: ${expr}`);
    }
    assert.deepEqual(empty, []);
  });
});
