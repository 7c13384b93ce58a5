import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
import { parseExposition } from "./exported-metrics.js";
import { type Run, run } from "./tools.js";

/** `promtool check rules` on rule files holding `exprs` as recording rules: PromQL's own parser. */
export function checkExprs(dir: string, exprs: readonly string[]): Run {
  const file = join(dir, "exprs.rules.yaml");
  const rules = exprs.map((expr, i) => ({ record: `check:expr_${i}`, expr }));
  writeFileSync(file, stringify({ groups: [{ name: "check", rules }] }, { lineWidth: 0 }));
  return run("promtool", ["check", "rules", file]);
}

function seriesText(name: string, labels: Readonly<Record<string, string>>): string {
  const body = Object.entries(labels)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(",");
  return `${name}{${body}}`;
}

/**
 * A `promtool test rules` file whose input is `exposition` (a /metrics text) scraped every
 * minute for 30 minutes with the target labels added, counters and histograms growing by their
 * value each minute and gauges holding it; and whose cases assert that each of `exprs` returns
 * at least one series at 30m. Written to `dir`; returns its path.
 */
export function nonEmptyTestFile(dir: string, exposition: string, exprs: readonly string[]): string {
  const target = { namespace: "assay", job: "assay-serve", instance: "192.0.2.10:8443" };
  const input = parseExposition(exposition).samples.map((s) => {
    const v = Number(s.value);
    const grows = s.type === "counter" || s.type === "histogram" || s.type === "summary";
    const values = Number.isNaN(v) ? "NaN+0x30" : grows ? `0+${v}x30` : `${v}+0x30`;
    return { series: seriesText(s.name, { ...s.labels, ...target }), values };
  });
  const file = join(dir, "non-empty.test.yaml");
  const test = {
    rule_files: [],
    evaluation_interval: "1m",
    tests: [
      {
        name: "every dashboard query returns a series",
        interval: "1m",
        input_series: input,
        promql_expr_test: exprs.map((expr) => ({
          expr: `count(${expr}) > bool 0`,
          eval_time: "30m",
          exp_samples: [{ labels: "{}", value: 1 }],
        })),
      },
    ],
  };
  writeFileSync(file, stringify(test, { lineWidth: 0 }));
  return file;
}
