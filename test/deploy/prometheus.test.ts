import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { parse } from "yaml";
import { ROOT } from "../run-assay.js";
import { suiteTempDir } from "../temp-dir.js";
import {
  ALERTS_FILE,
  alertRules,
  RECORDING_FILE,
  recordingRules,
  ruleFileYaml,
  shortenDuration,
  shortenExpr,
  shortenedAlertRules,
  shortenedRecordingRules,
} from "./alert-rules.js";
import { exportedLabels, exportedMetricNames, SYNTHETIC_METRICS, TARGET_LABELS } from "./exported-metrics.js";
import { selectors, unbalanced } from "./promql.js";
import { checkExprs } from "./promtool.js";
import { DEPLOY, promtoolMissing, run } from "./tools.js";

const PROM = join(DEPLOY, "prometheus");
const TEST_FILE = join(PROM, "alerts.test.yaml");
const CONFIG_FILE = join(PROM, "prometheus.yml");
const TMP = suiteTempDir("assay-deploy-prom-");
/** Runbooks other work writes (docs/serve.md names them); checked once they exist. */
const RUNBOOKS_OF_OTHERS = new Set(["docs/runbooks/oauth2.md", "docs/runbooks/mtls.md"]);

/** GitHub's anchor for a Markdown heading. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/[^\w\- ]/g, "")
    .replace(/ /g, "-");
}

describe("prometheus: rules checked by promtool", { skip: promtoolMissing() }, () => {
  test("promtool check rules accepts the alerting and the recording rules", () => {
    for (const file of [ALERTS_FILE, RECORDING_FILE]) {
      const r = run("promtool", ["check", "rules", file]);
      assert.equal(r.code, 0, `${file}: ${r.out}${r.err}`);
      assert.match(r.out, /SUCCESS: \d+ rules found/);
    }
  });

  test("promtool test rules: every case of alerts.test.yaml passes", () => {
    const r = run("promtool", ["test", "rules", TEST_FILE], PROM);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /SUCCESS/);
  });

  test("promtool check config accepts prometheus.yml and the rule files it loads", () => {
    const r = run("promtool", ["check", "config", CONFIG_FILE], PROM);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /SUCCESS: 2 rule files found/);
  });

  test("the shortened rules still parse, and a broken expression is refused", () => {
    for (const factor of [1, 30, 600]) {
      const file = join(TMP, `shortened-${factor}.yaml`);
      writeFileSync(file, ruleFileYaml([...shortenedRecordingRules(factor), ...shortenedAlertRules(factor)]));
      const r = run("promtool", ["check", "rules", file]);
      assert.equal(r.code, 0, `factor ${factor}: ${r.out}${r.err}`);
    }
    assert.notEqual(checkExprs(TMP, ["sum(rate(assay_ready[5m])"]).code, 0);
  });
});

describe("prometheus: what the rules say", () => {
  test("every alert has a severity, a summary, a description and a runbook that exists", (t) => {
    const alerts = alertRules();
    assert.ok(alerts.length >= 8);
    assert.equal(new Set(alerts.map((a) => a.alert)).size, alerts.length, "alert names are unique");
    const pending: string[] = [];
    for (const a of alerts) {
      assert.match(a.alert, /^AssayServe[A-Z0-9]\w+$/);
      assert.ok(["critical", "warning"].includes(a.labels.severity ?? ""), `${a.alert}: severity`);
      assert.equal(a.labels.service, "assay-serve");
      assert.ok((a.annotations.summary ?? "").length > 10, `${a.alert}: summary`);
      assert.ok((a.annotations.description ?? "").length > 20, `${a.alert}: description`);
      const url = /^(docs\/runbooks\/[\w-]+\.md)#([\w-]+)$/.exec(a.annotations.runbook_url ?? "");
      assert.ok(
        url,
        `${a.alert}: runbook_url \`${a.annotations.runbook_url}\` is docs/runbooks/<file>.md#<anchor>`,
      );
      const [, file, anchor] = url as unknown as [string, string, string];
      if (!existsSync(join(ROOT, file))) {
        assert.ok(RUNBOOKS_OF_OTHERS.has(file), `${a.alert}: ${file} does not exist`);
        pending.push(`${a.alert} -> ${file}`);
        continue;
      }
      const headings = readFileSync(join(ROOT, file), "utf8")
        .split("\n")
        .flatMap((l) => (/^#{1,6} /.test(l) ? [slug(l.replace(/^#+ /, ""))] : []));
      assert.ok(headings.includes(anchor), `${a.alert}: ${file} has no heading for #${anchor}`);
    }
    if (pending.length > 0) t.diagnostic(`runbooks not written yet: ${pending.join(", ")}`);
  });

  test("alerts.test.yaml makes every alert fire and keeps every alert quiet", () => {
    type Case = { alertname: string; exp_alerts?: unknown[] };
    const doc = parse(readFileSync(TEST_FILE, "utf8")) as { tests: { alert_rule_test?: Case[] }[] };
    const cases = doc.tests.flatMap((g) => g.alert_rule_test ?? []);
    const known = new Set(alertRules().map((a) => a.alert));
    for (const c of cases)
      assert.ok(known.has(c.alertname), `alerts.test.yaml tests an unknown alert ${c.alertname}`);
    for (const name of known) {
      const mine = cases.filter((c) => c.alertname === name);
      assert.ok(
        mine.some((c) => (c.exp_alerts ?? []).length > 0),
        `${name}: no case in alerts.test.yaml makes it fire`,
      );
      assert.ok(
        mine.some((c) => (c.exp_alerts ?? []).length === 0),
        `${name}: no case in alerts.test.yaml keeps it quiet`,
      );
    }
  });

  test("the rules read only series the service exports, by labels it sets, with values it uses", async () => {
    const names = await exportedMetricNames();
    const labels = await exportedLabels();
    const jobName = (parse(readFileSync(CONFIG_FILE, "utf8")) as { scrape_configs: { job_name: string }[] })
      .scrape_configs[0]?.job_name;
    for (const rule of [...alertRules(), ...recordingRules()]) {
      const name = "alert" in rule ? rule.alert : rule.record;
      assert.equal(unbalanced(rule.expr), undefined, `${name}: brackets`);
      for (const sel of selectors(rule.expr)) {
        const synthetic = (SYNTHETIC_METRICS as readonly string[]).includes(sel.metric);
        assert.ok(
          names.has(sel.metric) || synthetic,
          `${name}: \`${sel.metric}\` is not a metric the service exports`,
        );
        for (const m of sel.matchers) {
          if (m.label === "job") {
            assert.equal(m.value, jobName, `${name}: job matches prometheus.yml's job_name`);
            continue;
          }
          if ((TARGET_LABELS as readonly string[]).includes(m.label)) continue;
          const values = labels.get(sel.metric)?.get(m.label);
          assert.ok(values, `${name}: \`${sel.metric}\` has no label \`${m.label}\``);
          const wanted = m.op === "=~" || m.op === "!~" ? m.value.split("|") : [m.value];
          for (const v of wanted)
            assert.ok(values.has(v), `${name}: \`${sel.metric}{${m.label}="${v}"}\` never occurs`);
        }
      }
    }
  });

  test("recording rule names follow level:metric:operations and are not read by the alerts", () => {
    const recorded = recordingRules().map((r) => r.record);
    for (const r of recorded) assert.match(r, /^[a-z_]+:assay_[a-z0-9_]+:[a-z0-9_]+$/);
    for (const a of alertRules()) {
      for (const s of selectors(a.expr))
        assert.ok(!recorded.includes(s.metric), `${a.alert} reads ${s.metric}`);
    }
  });
});

describe("prometheus: shortened rules for a time-compressed live test", () => {
  test("durations are divided and written in seconds", () => {
    assert.equal(shortenDuration("5m", 30), "10s");
    assert.equal(shortenDuration("1h30m", 60), "90s");
    assert.equal(shortenDuration("1m", 600), "1s");
    assert.equal(shortenDuration("0m", 10), "0s");
    assert.throws(() => shortenDuration("5 minutes", 2), /bad duration/);
  });

  test("ranges, subqueries and offsets shrink; strings and thresholds do not", () => {
    assert.equal(
      shortenExpr('rate(x{a="[5m]"}[5m]) > 1200 and max_over_time(y[1h:1m]) offset 10m', 10),
      'rate(x{a="[5m]"}[30s]) > 1200 and max_over_time(y[360s:6s]) offset 60s',
    );
    assert.equal(shortenExpr("deriv(x[30m:])", 30), "deriv(x[60s:])");
  });

  test("every for: and every range of the alerts file shrinks by the factor", () => {
    const original = alertRules();
    const short = shortenedAlertRules(30).flatMap((g) => g.rules);
    assert.equal(short.length, original.length);
    short.forEach((r, i) => {
      const o = original[i];
      assert.ok(o);
      assert.equal(r.alert, o.alert);
      assert.deepEqual(r.annotations, o.annotations);
      if (o.for !== undefined) assert.equal(r.for, shortenDuration(o.for, 30));
      assert.doesNotMatch(r.expr, /\[\d+[mhdwy]\]/, `${r.alert}: a range left in minutes or more`);
      assert.equal(selectors(r.expr).length, selectors(o.expr).length);
    });
    const burn = short.find((r) => r.alert === "AssayServeErrorBudgetBurnFast");
    assert.match(burn?.expr ?? "", /\[120s\]/);
    assert.throws(() => shortenedAlertRules(0.5), RangeError);
  });
});
