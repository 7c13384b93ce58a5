import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { suiteTempDir } from "../temp-dir.js";
import { allPanels, dashboardQueries, readDashboard } from "./dashboard-queries.js";
import { demoExposition, exportedLabels, exportedMetricNames, TARGET_LABELS } from "./exported-metrics.js";
import { metricNames, selectors, unbalanced } from "./promql.js";
import { checkExprs, nonEmptyTestFile } from "./promtool.js";
import { promtoolMissing, run } from "./tools.js";

const TMP = suiteTempDir("assay-deploy-dash-");
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's own placeholder, not a JS template
const DS = "${DS_PROMETHEUS}";

describe("grafana: the assay serve dashboard", () => {
  test("is an importable dashboard whose data source is the DS_PROMETHEUS input and variable", () => {
    const d = readDashboard();
    assert.equal(d.uid, "assay-serve");
    assert.ok((d.schemaVersion ?? 0) >= 36, `schemaVersion ${d.schemaVersion}`);
    assert.ok(
      d.__inputs?.some(
        (i) => i.name === "DS_PROMETHEUS" && i.type === "datasource" && i.pluginId === "prometheus",
      ),
    );
    assert.ok(d.templating?.list?.some((v) => v.name === "DS_PROMETHEUS" && v.type === "datasource"));
  });

  test("every panel has an id, a title, a type, a place, the data source and a query", () => {
    const panels = allPanels();
    assert.ok(panels.length >= 10);
    const ids = panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, "panel ids are unique");
    for (const p of panels) {
      const name = `panel ${p.id} \`${p.title}\``;
      assert.ok(Number.isInteger(p.id), `${name}: id`);
      assert.ok(p.title && p.title.length > 0, `${name}: title`);
      assert.ok(
        ["stat", "timeseries", "table", "gauge", "bargauge"].includes(p.type ?? ""),
        `${name}: type ${p.type}`,
      );
      const g = p.gridPos;
      assert.ok(g && g.w > 0 && g.h > 0 && g.x >= 0 && g.y >= 0 && g.x + g.w <= 24, `${name}: gridPos`);
      assert.deepEqual(p.datasource, { type: "prometheus", uid: DS }, `${name}: datasource`);
      assert.ok((p.targets ?? []).length > 0, `${name}: no target`);
      const refIds = (p.targets ?? []).map((t) => t.refId);
      assert.equal(new Set(refIds).size, refIds.length, `${name}: refIds are unique`);
      for (const t of p.targets ?? []) {
        assert.ok(t.expr && t.expr.trim().length > 0, `${name}: empty expr`);
        assert.deepEqual(t.datasource, { type: "prometheus", uid: DS }, `${name}: target datasource`);
      }
    }
  });

  test("panels do not overlap", () => {
    const cells = new Map<string, string>();
    for (const p of allPanels()) {
      const g = p.gridPos;
      assert.ok(g);
      for (let x: number = g.x; x < g.x + g.w; x++) {
        for (let y: number = g.y; y < g.y + g.h; y++) {
          const other = cells.get(`${x},${y}`);
          assert.equal(other, undefined, `\`${p.title}\` overlaps \`${other}\` at ${x},${y}`);
          cells.set(`${x},${y}`, p.title ?? "");
        }
      }
    }
  });

  test("shows what the service is judged by", () => {
    const titles = allPanels().map((p) => p.title ?? "");
    const exprs = dashboardQueries().map((q) => q.expr);
    for (const outcome of ["allow", "warn", "deny"]) {
      assert.ok(
        exprs.some((e) => e.includes(`outcome="${outcome}"`)),
        `a stat for verify outcome ${outcome}`,
      );
    }
    for (const wanted of [
      /p95/,
      /p99/,
      /error rate/i,
      /cache hit rate/i,
      /auth failures/i,
      /plan size/i,
      /route/,
      /JWKS/,
    ]) {
      assert.ok(
        titles.some((t) => wanted.test(t)),
        `a panel titled ${wanted}`,
      );
    }
    assert.ok(exprs.some((e) => /adapt_selected_rules_total.*\/.*adapt_plans_total/s.test(e)));
  });

  test("queries are plain PromQL with fixed windows, over metrics and labels the service exports", async () => {
    const names = await exportedMetricNames();
    const labels = await exportedLabels();
    for (const { panel, expr } of dashboardQueries()) {
      assert.equal(unbalanced(expr), undefined, `\`${panel}\`: ${expr}`);
      assert.doesNotMatch(expr, /\$/, `\`${panel}\`: a Grafana variable in ${expr}`);
      assert.ok(metricNames(expr).length > 0, `\`${panel}\`: reads no metric`);
      for (const sel of selectors(expr)) {
        assert.ok(
          names.has(sel.metric),
          `\`${panel}\`: \`${sel.metric}\` is not a metric the service exports`,
        );
        for (const m of sel.matchers) {
          if ((TARGET_LABELS as readonly string[]).includes(m.label)) continue;
          const values = labels.get(sel.metric)?.get(m.label);
          assert.ok(values, `\`${panel}\`: \`${sel.metric}\` has no label \`${m.label}\``);
          for (const v of m.op.includes("~") ? m.value.split("|") : [m.value]) {
            assert.ok(values.has(v), `\`${panel}\`: \`${sel.metric}{${m.label}="${v}"}\` never occurs`);
          }
        }
      }
    }
  });

  test("the query checks refuse what they should", async () => {
    assert.match(unbalanced("sum(rate(x[5m])") ?? "", /left open/);
    assert.match(unbalanced('sum(x{a="("})]') ?? "", /closes nothing/);
    assert.deepEqual(
      metricNames('sum by (le) (rate(a_bucket{route="verify"}[5m])) / on (job) group_left b offset 5m'),
      ["a_bucket", "b"],
    );
    assert.ok(!(await exportedMetricNames()).has("assay_verify_latency_seconds_bucket"));
  });
});

describe("grafana: dashboard queries evaluated by promtool", { skip: promtoolMissing() }, () => {
  test("PromQL's parser accepts every query", () => {
    const r = checkExprs(
      TMP,
      dashboardQueries().map((q) => q.expr),
    );
    assert.equal(r.code, 0, r.out + r.err);
  });

  test("every query returns a series over 30 minutes of the service's own /metrics", async () => {
    const exprs = dashboardQueries().map((q) => q.expr);
    const file = nonEmptyTestFile(TMP, await demoExposition(), exprs);
    const r = run("promtool", ["test", "rules", file], TMP);
    assert.equal(r.code, 0, r.out + r.err);
    // And the check can fail: a query over a label value no series has returns nothing.
    const bad = nonEmptyTestFile(join(TMP), await demoExposition(), [
      'sum(assay_ready{namespace="nowhere"})',
    ]);
    assert.notEqual(run("promtool", ["test", "rules", bad], TMP).code, 0);
  });
});
