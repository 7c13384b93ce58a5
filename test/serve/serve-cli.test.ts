import assert from "node:assert/strict";
import { execFile, spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { describe, test } from "node:test";
import { promisify } from "node:util";
import { ASSAY_BIN, ROOT, runAssay } from "../run-assay.js";
import { suiteTempDir } from "../temp-dir.js";

const exec = promisify(execFile);

/** The curl lines of docs/serve.md's "Try it" section, in order. */
function documentedCurls(): string[] {
  const doc = readFileSync(join(ROOT, "docs/serve.md"), "utf8");
  const section = doc.slice(doc.indexOf("## Try it"), doc.indexOf("## The HTTP API"));
  return section.split("\n").filter((l) => l.startsWith("curl "));
}

describe("assay serve (the CLI)", () => {
  const dir = suiteTempDir("assay-serve-cli-");

  test("starts with the README's command, answers docs/serve.md's curl lines as documented, stops on SIGTERM with 0", async (t) => {
    const curls = documentedCurls();
    assert.equal(curls.length, 8);
    const child = spawn(
      process.execPath,
      [ASSAY_BIN, "serve", "--config", "examples/serve/dev.yaml", "--listen", "127.0.0.1:0"],
      {
        cwd: ROOT,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    t.after(() => child.kill("SIGKILL"));
    const lines: Record<string, unknown>[] = [];
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error("no `assay serve listening` line within 20 s")),
        20_000,
      );
      child.once("exit", (code) => reject(new Error(`assay serve exited early with ${code}`)));
      createInterface({ input: child.stdout }).on("line", (line) => {
        const rec = JSON.parse(line) as Record<string, unknown>;
        lines.push(rec);
        if (rec.msg === "assay serve listening") {
          clearTimeout(timer);
          resolve(String(rec.url));
        }
      });
    });
    const port = new URL(url).port;
    const run = async (line: string) =>
      (await exec("sh", ["-c", line.replaceAll("127.0.0.1:8080", `127.0.0.1:${port}`)], { encoding: "utf8" }))
        .stdout;
    const out = [] as string[];
    for (const line of curls) out.push(await run(line));
    const [ready, list, traversal, adaptive, trace, plan, unauth, metrics] = out as [
      string,
      string,
      string,
      string,
      string,
      string,
      string,
      string,
    ];
    assert.deepEqual(JSON.parse(ready), {
      ready: true,
      checks: { policies: 2, jwks: "not_configured", draining: false },
    });
    assert.deepEqual(
      (JSON.parse(list) as { policies: { id: string }[] }).policies.map((p) => p.id),
      ["lksg.v1", "mcp-baseline"],
    );
    const d = JSON.parse(traversal) as {
      verdict: string;
      decision: { rule_id: string; reason_code: string };
    };
    assert.deepEqual(
      [d.verdict, d.decision.rule_id, d.decision.reason_code],
      ["deny", "workspace-scope", "args_invalid"],
    );
    const a = JSON.parse(adaptive) as {
      verdict: string;
      decision: { rule_id: string };
      plan: { active_rules: string[] };
    };
    assert.deepEqual([a.verdict, a.decision.rule_id], ["deny", "audit_fresh"]);
    assert.deepEqual(a.plan.active_rules, ["no_sanctions", "no_conflict_regions", "audit_fresh"]);
    const tr = JSON.parse(trace) as { verdict: string; calls: number; violations: { rule_id: string }[] };
    assert.deepEqual([tr.verdict, tr.calls], ["deny", 1]);
    assert.ok(tr.violations.some((v) => v.rule_id === "no_sanctions"));
    const p = JSON.parse(plan) as { policy_id: string; active_rules: string[] };
    assert.equal(p.policy_id, "lksg.v1");
    assert.ok(
      p.active_rules.includes("onsite_audit_required") && p.active_rules.includes("direct_supplier_contract"),
    );
    assert.match(unauth, /^HTTP\/1\.1 401 /);
    assert.match(unauth, /www-authenticate: Bearer realm="assay"/i);
    assert.match(metrics, /^assay_verify_requests_total\{route="verify",outcome="deny"\} 3$/m);

    const exit = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    child.kill("SIGTERM");
    assert.equal(await exit, 0);
    assert.ok(lines.some((l) => l.msg === "shutting down: readiness false, draining in-flight requests"));
    // Requests were logged with their ids, never with the dev token.
    assert.ok(lines.some((l) => l.msg === "request" && typeof l.request_id === "string"));
  });

  test("a bad config exits 2 with one line naming file:line:col; --check passes a good one without listening", () => {
    const bad = join(dir, "bad.yaml");
    writeFileSync(bad, "profile: prod\npolicies: [x.yaml]\nauth:\n  dev_token: 0123456789abcdef0123\n");
    const r = runAssay(["serve", "--config", bad]);
    assert.equal(r.code, 2);
    assert.match(r.err, /bad\.yaml:3:\d+: profile prod needs a real issuer/);
    assert.equal(r.err.trim().split("\n").length, 1, r.err);
    const missingPack = join(dir, "missing-pack.yaml");
    writeFileSync(
      missingPack,
      "profile: dev\npolicies:\n  - nope.yaml\nauth: { dev_token: 0123456789abcdef0123 }\n",
    );
    const mp = runAssay(["serve", "--config", missingPack, "--check"]);
    assert.equal(mp.code, 2);
    assert.match(mp.err, /missing-pack\.yaml:3:\d+: cannot read pack: ENOENT \(.*nope\.yaml\)/);
    const ok = runAssay(["serve", "--config", "examples/serve/dev.yaml", "--check"], ROOT);
    assert.equal(ok.code, 0, ok.err);
    assert.equal(ok.out, "config ok: profile dev, 2 policies (lksg.v1, mcp-baseline), plain HTTP\n");
  });
});
