import {
  type AuthFailureReason,
  type CacheName,
  createServeMetrics,
  type Outcome,
  type RouteName,
} from "../../src/serve/metrics.js";

/** Fails to compile when a union gains a member the list below does not name. */
type Exhaustive<Union, Listed> = [Exclude<Union, Listed>] extends [never] ? true : never;

const ROUTES = ["verify", "adapt", "policies_list", "policies_get", "policies_load"] as const;
const OUTCOMES = [
  "allow",
  "warn",
  "deny",
  "ok",
  "invalid",
  "unauthorized",
  "forbidden",
  "rate_limited",
  "unavailable",
  "error",
] as const;
const REASONS = [
  "missing",
  "malformed",
  "expired",
  "not_yet_valid",
  "wrong_issuer",
  "wrong_audience",
  "bad_signature",
  "unknown_kid",
  "bad_algorithm",
  "insufficient_scope",
  "idp_unavailable",
  "mtls_no_cert",
  "mtls_untrusted",
  "mtls_san",
] as const;
const CACHES = ["compiled", "plan"] as const;

export const EXHAUSTIVE: [
  Exhaustive<RouteName, (typeof ROUTES)[number]>,
  Exhaustive<Outcome, (typeof OUTCOMES)[number]>,
  Exhaustive<AuthFailureReason, (typeof REASONS)[number]>,
  Exhaustive<CacheName, (typeof CACHES)[number]>,
] = [true, true, true, true];

/** One sample of the service's /metrics text. */
export interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: string;
  /** The metric family's type (`# TYPE`): counter, gauge, histogram, summary, untyped. */
  readonly type: string;
}

/** The labels Prometheus adds to every scraped series (deploy/prometheus/prometheus.yml). */
export const TARGET_LABELS = ["namespace", "job", "instance"] as const;

/** Series Prometheus makes itself for every target; rules may read them too. */
export const SYNTHETIC_METRICS = ["up", "scrape_duration_seconds", "scrape_samples_scraped"] as const;

function parseLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const m of text.matchAll(/([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
    labels[m[1] as string] = (m[2] as string).replace(/\\n/g, "\n").replace(/\\(.)/g, "$1");
  }
  return labels;
}

/** Prometheus' text exposition format, read back into samples (no timestamps, no exemplars). */
export function parseExposition(text: string): { samples: Sample[]; families: Map<string, string> } {
  const families = new Map<string, string>();
  const samples: Sample[] = [];
  for (const line of text.split("\n")) {
    const type = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (type !== null) families.set(type[1] as string, type[2] as string);
    if (line === "" || line.startsWith("#")) continue;
    const m = /^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$/.exec(line);
    if (m === null) throw new Error(`unreadable exposition line \`${line}\``);
    const name = m[1] as string;
    const family = families.has(name) ? name : name.replace(/_(bucket|sum|count)$/, "");
    samples.push({
      name,
      labels: parseLabels(m[2] ?? ""),
      value: m[3] as string,
      type: families.get(family) ?? "untyped",
    });
  }
  return { samples, families };
}

/**
 * The /metrics text of the service's own registry (src/serve/metrics.ts) after one of every
 * event it counts: every route with every outcome, both caches hit and missed, every auth
 * failure reason, JWKS and certificate reloads both ways, a plan built and a selection failed.
 * What a scrape of a service that has seen some traffic returns.
 */
export async function demoExposition(): Promise<string> {
  const m = createServeMetrics("0.0.0-test");
  for (const route of ROUTES) {
    for (const outcome of OUTCOMES) m.request(route, outcome, 0.002);
  }
  m.request("verify", "allow", 0.03);
  for (const cache of CACHES) {
    m.cache(cache, true);
    m.cache(cache, true);
    m.cache(cache, false);
  }
  for (const reason of REASONS) m.authFailure(reason);
  m.compiled("ok", 0.02);
  m.compiled("error", 0.001);
  m.jwksRefresh("ok", 2);
  m.jwksRefresh("error");
  m.policiesLoaded(1);
  m.ready(true);
  m.tlsReload("ok");
  m.tlsReload("error");
  m.adapt.planBuilt("basic", 3, 0.0001);
  m.adapt.planBuilt("weighted", 5, 0.0002);
  m.adapt.selectionFailed();
  return m.registry.metrics();
}

/**
 * Every series name the service exports: each family (prom-client's process and Node.js metrics,
 * assay_*, adapt_*), with `_bucket`, `_sum` and `_count` for histograms and `_sum`, `_count` for
 * summaries, whether or not a sample exists yet.
 */
export async function exportedMetricNames(): Promise<Set<string>> {
  const { samples, families } = parseExposition(await demoExposition());
  const names = new Set(samples.map((s) => s.name));
  for (const [family, type] of families) {
    names.add(family);
    if (type === "histogram") for (const suffix of ["_bucket", "_sum", "_count"]) names.add(family + suffix);
    if (type === "summary") for (const suffix of ["_sum", "_count"]) names.add(family + suffix);
  }
  return names;
}

/** Each label name a series carries in the service's output, by series name. */
export async function exportedLabels(): Promise<Map<string, Map<string, Set<string>>>> {
  const out = new Map<string, Map<string, Set<string>>>();
  for (const s of parseExposition(await demoExposition()).samples) {
    const labels = out.get(s.name) ?? new Map<string, Set<string>>();
    for (const [k, v] of Object.entries(s.labels)) labels.set(k, (labels.get(k) ?? new Set()).add(v));
    out.set(s.name, labels);
  }
  return out;
}
