import type { SoakRun } from "../matrix-doc.js";
import { interval, pct } from "./format.js";
import { type Html, html, type Part } from "./html.js";
import { ciBandsSvgs, dimensionsOf } from "./svg-ci-bands.js";
import { passKSvg } from "./svg-pass-k.js";
import { violationsSvg, violationTotals } from "./svg-violations.js";
import { table } from "./table.js";

/** The soak runs among the evidence: a table of runs, then three charts, each followed by its numbers. */
export function soakSection(runs: readonly SoakRun[]): Html {
  const body =
    runs.length === 0
      ? html`<p>No soak report is among the evidence, so there are no soak charts.</p>`
      : html`${runsTable(runs)}
<h3>Pass rate by dimension (CI95)</h3>
${dimensions(runs)}
<h3>pass^k</h3>
${passK(runs)}
<h3>Violations by rule</h3>
${violations(runs)}`;
  return html`<section id="soak" aria-labelledby="soak-h">
<h2 id="soak-h">Soak runs</h2>
${body}
</section>`;
}

const runName = (i: number) => `run ${i + 1}`;

function runsTable(runs: readonly SoakRun[]): Html {
  return table({
    caption: `Soak runs among the evidence (${runs.length}), oldest first`,
    columns: ["Run", "Run id", "Bundle", "Started (UTC)", "Trials", "Pass rate", "CI95", "Report"],
    rowHeaders: true,
    className: "numbers",
    rows: runs.map((r, i) => [
      runName(i),
      html`<code>${r.run_id}</code>`,
      html`<code>${r.bundle_id}</code>`,
      r.started_at_utc,
      r.trials ?? "not reported",
      pct(r.pass_rate),
      interval(r.ci_95),
      html`<code>${r.path}</code>`,
    ]),
  });
}

function dimensions(runs: readonly SoakRun[]): Html {
  const dims = dimensionsOf(runs);
  if (dims.length === 0) return html`<p>No run reports pass rates by dimension.</p>`;
  const cell = (r: SoakRun, dim: string): Part => {
    const d = r.dimensions.find((x) => x.dimension === dim);
    return d === undefined ? "—" : `${pct(d.pass_rate)} (${d.passes}/${d.n}); CI95 ${interval(d.ci_95)}`;
  };
  return html`<figure><div class="charts">${ciBandsSvgs("chart-ci", runs)}</div><figcaption>Each point is a run's pass rate in one dimension; the band and whiskers are its Wilson 95% interval. The table below has the same numbers.</figcaption></figure>
${table({
  caption: "Pass rate by dimension and run, with Wilson 95% intervals",
  columns: ["Dimension", ...runs.map((_, i) => runName(i))],
  rowHeaders: true,
  className: "numbers",
  rows: dims.map((dim) => [dim, ...runs.map((r) => cell(r, dim))]),
})}`;
}

function passK(runs: readonly SoakRun[]): Html {
  const ks = [...new Set(runs.flatMap((r) => r.pass_hat_k.map((p) => p.k)))].sort((a, b) => a - b);
  if (ks.length === 0) return html`<p>No run reports pass^k.</p>`;
  return html`<figure>${passKSvg("chart-pass-k", runs)}<figcaption>pass^k is the chance that k trials of a scenario in a row all pass; one line per run. The table below has the same numbers.</figcaption></figure>
${table({
  caption: "pass^k by k and run",
  columns: ["k", ...runs.map((_, i) => runName(i))],
  rowHeaders: true,
  className: "numbers",
  rows: ks.map((k) => [k, ...runs.map((r) => valueAt(r, k))]),
})}`;
}

function valueAt(r: SoakRun, k: number): string {
  const p = r.pass_hat_k.find((x) => x.k === k);
  return p === undefined ? "—" : pct(p.value);
}

function violations(runs: readonly SoakRun[]): Html {
  const totals = violationTotals(runs);
  if (totals.every((t) => t.count === 0)) return html`<p>No run recorded a violation.</p>`;
  const per = (r: SoakRun, rule: string) =>
    r.violations.filter((v) => v.rule_id === rule).reduce((n, v) => n + v.count, 0);
  return html`<figure>${violationsSvg("chart-violations", totals)}<figcaption>Violations per rule summed over ${runs.length} runs, most first. The table below has the same numbers.</figcaption></figure>
${table({
  caption: "Violations by rule: total and per run",
  columns: ["Rule", "Total", ...runs.map((_, i) => runName(i))],
  rowHeaders: true,
  className: "numbers",
  rows: totals.map((t) => [html`<code>${t.rule_id}</code>`, t.count, ...runs.map((r) => per(r, t.rule_id))]),
})}`;
}
