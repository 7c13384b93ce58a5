import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { DEPLOY } from "./tools.js";

/** An alerting rule of deploy/prometheus/alerts.yaml. */
export interface AlertRule {
  readonly alert: string;
  readonly expr: string;
  readonly for?: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
}

/** A recording rule of deploy/prometheus/recording-rules.yaml. */
export interface RecordingRule {
  readonly record: string;
  readonly expr: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export interface RuleGroup<R> {
  readonly name: string;
  readonly interval?: string;
  readonly rules: readonly R[];
}

export const ALERTS_FILE = join(DEPLOY, "prometheus/alerts.yaml");
export const RECORDING_FILE = join(DEPLOY, "prometheus/recording-rules.yaml");

function groups<R>(file: string): RuleGroup<R>[] {
  const doc = parse(readFileSync(file, "utf8")) as { groups?: RuleGroup<R>[] };
  if (!Array.isArray(doc.groups)) throw new Error(`${file}: no \`groups\``);
  return doc.groups;
}

/** The groups of deploy/prometheus/alerts.yaml, as written. */
export function alertGroups(): RuleGroup<AlertRule>[] {
  return groups<AlertRule>(ALERTS_FILE);
}

/** Every alerting rule of deploy/prometheus/alerts.yaml, in file order. */
export function alertRules(): AlertRule[] {
  return alertGroups().flatMap((g) => g.rules);
}

/** The groups of deploy/prometheus/recording-rules.yaml, as written. */
export function recordingGroups(): RuleGroup<RecordingRule>[] {
  return groups<RecordingRule>(RECORDING_FILE);
}

/** Every recording rule of deploy/prometheus/recording-rules.yaml, in file order. */
export function recordingRules(): RecordingRule[] {
  return recordingGroups().flatMap((g) => g.rules);
}

const UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

/** A Prometheus duration (`5m`, `1h30m`, `250ms`) in milliseconds. */
export function durationMs(d: string): number {
  const parts = [...d.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join("") !== d) throw new Error(`bad duration \`${d}\``);
  return parts.reduce((sum, p) => sum + Number(p[1]) * (UNIT_MS[p[2] as string] as number), 0);
}

/** `d` divided by `factor`, in whole seconds, at least 1s (`0s` stays `0s`). */
export function shortenDuration(d: string, factor: number): string {
  const ms = durationMs(d);
  return ms === 0 ? "0s" : `${Math.max(1, Math.round(ms / factor / 1000))}s`;
}

/**
 * `expr` with every range (`[5m]`), subquery (`[1h:1m]`) and offset divided by `factor`.
 * Strings are left alone; numbers are too, so a threshold in seconds (AssayServeJwksStale's
 * 900) keeps its value and a compressed test sets that gauge to match.
 */
export function shortenExpr(expr: string, factor: number): string {
  const re =
    /("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)|\[\s*(\w+)\s*(?::\s*(\w*)\s*)?\]|\boffset\s+(-?)(\w+)/g;
  return expr.replace(
    re,
    (all, str: string | undefined, range?: string, step?: string, sign?: string, offset?: string) => {
      if (str !== undefined) return all;
      if (range !== undefined) {
        const r = shortenDuration(range, factor);
        if (step === undefined) return `[${r}]`;
        return step === "" ? `[${r}:]` : `[${r}:${shortenDuration(step, factor)}]`;
      }
      return `offset ${sign ?? ""}${shortenDuration(offset as string, factor)}`;
    },
  );
}

function checkFactor(factor: number): void {
  if (!Number.isFinite(factor) || factor < 1) throw new RangeError(`factor must be 1 or more, got ${factor}`);
}

/**
 * For a time-compressed live test only: the alerts file's groups with every `for:`, every range
 * and offset in the expressions and every group interval divided by `factor` and written in
 * seconds (factor 30: `for: 5m` becomes `for: 10s`, `[1h]` becomes `[120s]`). Pick the factor so
 * that the shortest range still spans several scrapes: `[1m]` / 30 is 2s, which needs a scrape
 * interval of 1s or less. Thresholds are not scaled (see `shortenExpr`). Dump the result with
 * `ruleFileYaml` and load it into a real Prometheus.
 */
export function shortenedAlertRules(factor: number): RuleGroup<AlertRule>[] {
  checkFactor(factor);
  return alertGroups().map((g) => ({
    ...g,
    ...(g.interval === undefined ? {} : { interval: shortenDuration(g.interval, factor) }),
    rules: g.rules.map((r) => ({
      ...r,
      expr: shortenExpr(r.expr, factor),
      ...(r.for === undefined ? {} : { for: shortenDuration(r.for, factor) }),
    })),
  }));
}

/** The recording rules shortened the same way as `shortenedAlertRules`. */
export function shortenedRecordingRules(factor: number): RuleGroup<RecordingRule>[] {
  checkFactor(factor);
  return recordingGroups().map((g) => ({
    ...g,
    ...(g.interval === undefined ? {} : { interval: shortenDuration(g.interval, factor) }),
    rules: g.rules.map((r) => ({ ...r, expr: shortenExpr(r.expr, factor) })),
  }));
}

/** A Prometheus rule file holding `groups`. */
export function ruleFileYaml(groups: readonly RuleGroup<AlertRule | RecordingRule>[]): string {
  return stringify({ groups }, { lineWidth: 0 });
}
