/**
 * A realistic matrix.json for the report tests: three groups, claims in every state, evidence
 * that passes, fails, is missing or cannot be evaluated, a state signal, two soak runs with four
 * dimensions, pass^k to k = 8 and violations, readiness levels with unmet requirements, and a
 * campaign broken by one artifact outside its window and one without a timestamp. It follows
 * the rules of judge-claim.ts and readiness.ts, so it reads like a real run; each call returns a
 * fresh copy that a test may change.
 */
import { createHash } from "node:crypto";
import type { ArtifactKind } from "../../src/matrix/artifact.js";
import {
  CLAIM_STATES,
  type ClaimRow,
  type ClaimState,
  type EvidenceResult,
  type InputFile,
  type MatrixDoc,
  RECOMMENDATION_FOR,
  type SoakRun,
} from "../../src/matrix/matrix-doc.js";
import { passKByScenario } from "../../src/sim/stats/pass-k.js";
import { wilsonInterval } from "../../src/sim/stats/wilson.js";

const GROUPS = [
  { id: "gate", title: "MCP gate" },
  { id: "evidence", title: "Evidence and attestations" },
  { id: "reliability", title: "Reliability under soak" },
] as const;

type Row = Omit<ClaimRow, "recommendation" | "signal" | "limitations" | "disclosure"> &
  Partial<Pick<ClaimRow, "signal" | "limitations" | "disclosure">>;

function row(r: Row): ClaimRow {
  return {
    ...r,
    recommendation: RECOMMENDATION_FOR[r.state],
    limitations: r.limitations ?? null,
    disclosure: r.disclosure ?? null,
    signal: r.signal ?? null,
  };
}

function pass(kind: ArtifactKind, file: string, criterion: string, found: unknown): EvidenceResult {
  return { kind, file, path: `evidence/${file}`, criterion, status: "pass", found };
}

function missing(kind: ArtifactKind, file: string, criterion: string): EvidenceResult {
  return { kind, file, path: null, criterion, status: "missing" };
}

const CLAIMS: readonly ClaimRow[] = [
  row({
    id: "GATE-SEC-01",
    group: "gate",
    claim: "Every tool call the policy denies is refused before it reaches the MCP server.",
    required_for: "design_partner",
    state: "VALIDATED",
    verdict: "pass",
    reason: "every criterion holds (2 sources)",
    evidence: [
      pass("conformance", "conformance.json", "summary.refused_wrongly == 0", 0),
      pass("junit", "junit.xml", "testsuites.failures == 0", 0),
    ],
  }),
  row({
    id: "GATE-PERF-01",
    group: "gate",
    claim: "The gate adds under 1 ms at p99 to a tool call at 1,000 calls/s.",
    required_for: "design_partner",
    state: "BETA",
    verdict: "pass",
    reason: "every criterion holds (1 source); ships with disclosure `gate_latency_single_host`",
    evidence: [pass("bench", "bench-gate.json", "output.p99_overhead_ms < 1.0", 0.38)],
    limitations:
      "Measured on one 4-vCPU CI runner with an in-process upstream; a network transport adds its own latency.",
    disclosure: "gate_latency_single_host",
  }),
  row({
    id: "GATE-FAIL-01",
    group: "gate",
    claim: "Unparsable frames and evaluator errors are denied with a reason, never forwarded.",
    required_for: "design_partner",
    state: "VALIDATED",
    verdict: "pass",
    reason: "every criterion holds (1 source)",
    evidence: [
      pass(
        "junit",
        "junit.xml",
        "testsuites.testsuite.filter(s, s.name == 'fail closed')[0].failures == 0",
        0,
      ),
    ],
  }),
  row({
    id: "GATE-HTTP-01",
    group: "gate",
    claim: "The Streamable HTTP transport passes the official MCP conformance suite.",
    required_for: "ga",
    state: "NOT_STARTED",
    verdict: "missing",
    reason: "evidence missing: `conformance-http.json`; the long-running gate has not been run yet",
    evidence: [missing("conformance", "conformance-http.json", "summary.failed == 0")],
  }),
  row({
    id: "EVID-SIGN-01",
    group: "evidence",
    claim: "Evidence bundles verify offline with nothing but the signer's public key.",
    required_for: "design_partner",
    state: "VALIDATED",
    verdict: "pass",
    reason: "every criterion holds (2 sources)",
    evidence: [
      pass("evidence_verify", "evidence-verify.json", "output.verified == true", true),
      pass("audit_kit_verify", "audit-kit-verify.json", "output.failed_steps.size() == 0", 0),
    ],
  }),
  row({
    id: "EVID-SLSA-01",
    group: "evidence",
    claim: "Every release artifact carries SLSA v1 provenance that verifies.",
    required_for: "ga",
    state: "DEFER",
    verdict: "fail",
    reason:
      "criterion `output.provenance.subjects.size() > 0` cannot be evaluated in `evidence/provenance-verify.json`: no such key: provenance",
    evidence: [
      {
        kind: "evidence_verify",
        file: "provenance-verify.json",
        path: "evidence/provenance-verify.json",
        criterion: "output.provenance.subjects.size() > 0",
        status: "error",
        message: "no such key: provenance",
      },
    ],
    limitations: "Provenance is generated for the npm tarball only; container images are not attested yet.",
  }),
  row({
    id: "EVID-AUDIT-01",
    group: "evidence",
    claim: "An independent auditor has reproduced a soak verdict from its audit kit.",
    required_for: "public_production",
    state: "FUTURE_REQUIRED",
    verdict: "none",
    reason: "needs third-party evidence",
    evidence: [],
  }),
  row({
    id: "EVID-RUN-01",
    group: "evidence",
    claim: "Runner archives of two identical runs diff to an empty capability change.",
    required_for: "ga",
    state: "DEFER",
    verdict: "fail",
    reason: "criterion `output.added.size() == 0` fails: found `3` in `evidence/runner-diff.json`",
    evidence: [
      {
        kind: "runner_diff",
        file: "runner-diff.json",
        path: "evidence/runner-diff.json",
        criterion: "output.added.size() == 0",
        status: "fail",
        found: 3,
        message: "the criterion is false",
      },
    ],
    limitations: "Compared with the strace backend only; the bpftrace backend is not diffed yet.",
  }),
  row({
    id: "SOAK-DP-01",
    group: "reliability",
    claim: "Over 200 seeded trials the agent stays inside policy with a Wilson lower bound of at least 90%.",
    required_for: "design_partner",
    state: "VALIDATED",
    verdict: "pass",
    reason: 'state signal `verdict` is `"ready"` (every criterion holds)',
    evidence: [
      pass("soak_report", "soak-2026-06-08.json", "summary.ci_95[0] >= 0.90", 0.9568),
      pass("readiness_report", "readiness.json", "verdict != 'not_ready'", "ready"),
    ],
    signal: { file: "readiness.json", expression: "verdict", value: "ready", state: "VALIDATED" },
  }),
  row({
    id: "SOAK-K-01",
    group: "reliability",
    claim: "pass^8 stays at or above 0.75 on the reference target bundle.",
    required_for: "design_partner",
    state: "BETA",
    verdict: "pass",
    reason: "every criterion holds (1 source); ships with disclosure `soak_pass_k_eight`",
    evidence: [
      pass(
        "soak_report",
        "soak-2026-06-08.json",
        "summary.thresholds_used.pass_hat_k[7].value >= 0.75",
        0.88,
      ),
    ],
    limitations: "One reference target bundle; pass^k on customer tool sets is not measured yet.",
    disclosure: "soak_pass_k_eight",
  }),
  row({
    id: "SOAK-30D-01",
    group: "reliability",
    claim: "A 30-day soak of the reference bundle holds its readiness thresholds throughout.",
    required_for: "ga",
    state: "NOT_STARTED",
    verdict: "missing",
    reason: "evidence missing: `soak-30d.json`; the long-running gate has not been run yet",
    evidence: [missing("soak_report", "soak-30d.json", "summary.pass_rate >= 0.95")],
    limitations: "The 30-day harness exists; the run has not been scheduled.",
  }),
  row({
    id: "SOAK-PUB-01",
    group: "reliability",
    claim: "Customer-run soaks reproduce the published pass rates within their intervals.",
    required_for: "public_production",
    state: "FUTURE_REQUIRED",
    verdict: "none",
    reason: "needs third-party evidence",
    evidence: [],
  }),
];

/** Per-scenario passes of 20 scenarios × 10 trials; the pooled rate and pass^k follow from them. */
function soakRun(
  path: string,
  runId: string,
  startedAt: string,
  scenarios: readonly number[],
  dims: Readonly<Record<string, number>>,
  violations: SoakRun["violations"],
): SoakRun {
  const passes = scenarios.reduce((a, b) => a + b, 0);
  const trials = scenarios.length * 10;
  return {
    path,
    run_id: runId,
    bundle_id: "assay-reference@1.4.0",
    started_at_utc: startedAt,
    trials,
    pass_rate: passes / trials,
    ci_95: wilsonInterval(passes, trials),
    dimensions: Object.entries(dims).map(([dimension, p]) => ({
      dimension,
      pass_rate: p / trials,
      passes: p,
      n: trials,
      ci_95: wilsonInterval(p, trials),
    })),
    pass_hat_k: passKByScenario(
      scenarios.map((c) => ({ passes: c, n: 10 })),
      8,
    ),
    violations,
  };
}

function soakRuns(): SoakRun[] {
  return [
    soakRun(
      "evidence/soak-2026-06-02.json",
      "soak-20260602-a1b2c3",
      "2026-06-02T08:00:00Z",
      [10, 10, 9, 10, 8, 10, 10, 9, 10, 10, 7, 10, 10, 9, 10, 10, 10, 9, 10, 9],
      { control: 189, correctness: 193, safety: 197, security: 199 },
      [
        { rule_id: "workspace-paths", count: 7 },
        { rule_id: "no-post-after-secret", count: 3 },
        { rule_id: "call-budget", count: 2 },
      ],
    ),
    soakRun(
      "evidence/soak-2026-06-08.json",
      "soak-20260608-d4e5f6",
      "2026-06-08T06:00:00Z",
      [10, 10, 10, 10, 9, 10, 10, 10, 10, 10, 9, 10, 10, 10, 10, 10, 10, 9, 10, 10],
      { control: 194, correctness: 196, safety: 199, security: 200 },
      [
        { rule_id: "workspace-paths", count: 4 },
        { rule_id: "call-budget", count: 2 },
        { rule_id: "no-post-after-secret", count: 1 },
        { rule_id: "no-private-net", count: 1 },
      ],
    ),
  ];
}

const EVIDENCE: readonly [string, ArtifactKind, string | null, string][] = [
  ["evidence/audit-kit-verify.json", "audit_kit_verify", "2026-06-07T10:02:00Z", "recorded_at_utc"],
  ["evidence/bench-gate.json", "bench", "2026-05-22T09:00:00Z", "recorded_at_utc"],
  ["evidence/conformance.json", "conformance", "2026-06-08T14:05:00Z", "recorded_at_utc"],
  ["evidence/evidence-verify.json", "evidence_verify", "2026-06-07T10:00:00Z", "recorded_at_utc"],
  ["evidence/junit.xml", "junit", null, "the JUnit XML records no timestamp attribute"],
  ["evidence/provenance-verify.json", "evidence_verify", "2026-06-07T10:03:00Z", "recorded_at_utc"],
  ["evidence/readiness.json", "readiness_report", "2026-06-08T07:00:00Z", "generated_at_utc"],
  ["evidence/runner-diff.json", "runner_diff", "2026-06-06T16:30:00Z", "recorded_at_utc"],
  ["evidence/soak-2026-06-02.json", "soak_report", "2026-06-02T08:00:00Z", "run.started_at_utc"],
  ["evidence/soak-2026-06-08.json", "soak_report", "2026-06-08T06:00:00Z", "run.started_at_utc"],
];

/** A stand-in digest: a fixed function of the path, so the fixture is the same every time. */
function digest(path: string): string {
  return `sha256:${createHash("sha256").update(`fixture:${path}`).digest("hex")}`;
}

function inputs(): InputFile[] {
  return [
    { role: "registry", path: "claims/claims.yaml", sha256: digest("claims/claims.yaml") },
    { role: "disclosures", path: "claims/disclosures.json", sha256: digest("claims/disclosures.json") },
    ...EVIDENCE.map(
      ([path, kind, timestamp, timestamp_source]): InputFile => ({
        role: "evidence",
        path,
        sha256: digest(path),
        kind,
        timestamp,
        timestamp_source,
      }),
    ),
  ];
}

function counts(group: string): Record<ClaimState, number> {
  const rows = CLAIMS.filter((r) => r.group === group);
  return Object.fromEntries(CLAIM_STATES.map((s) => [s, rows.filter((r) => r.state === s).length])) as Record<
    ClaimState,
    number
  >;
}

const CAMPAIGN_SUMMARY = "1 artifact(s) outside the 7d window; 1 artifact(s) record no time";

/** A fresh, schema-valid MatrixDoc (schemas/matrix.schema.json). */
export function fixtureMatrixDoc(): MatrixDoc {
  const rows = structuredClone(CLAIMS) as ClaimRow[];
  const unmetOf = (level: ClaimRow["required_for"]) =>
    rows
      .filter((r) => r.required_for === level && r.state !== "VALIDATED")
      .map((r) => ({ requirement: r.id, reason: `${r.state}: ${r.reason}` }));
  return {
    schema_version: "assay.matrix.v1",
    assay_version: "0.1.0",
    generated_at_utc: "2026-06-08T15:00:00Z",
    title: "Assay public claims — evidence matrix",
    groups: GROUPS.map((g) => ({ ...g, counts: counts(g.id) })),
    matrix: rows,
    evidence_campaign: {
      window: "7d",
      window_seconds: 604_800,
      anchor: "2026-06-08T14:05:00Z",
      anchor_source: "newest_artifact",
      earliest: "2026-05-22T09:00:00Z",
      latest: "2026-06-08T14:05:00Z",
      span_seconds: 1_487_100,
      holds: false,
      outside: [
        {
          path: "evidence/bench-gate.json",
          timestamp: "2026-05-22T09:00:00Z",
          reason: "17d 5h before the window's end, which is 7d long",
        },
      ],
      missing_timestamps: [
        { path: "evidence/junit.xml", reason: "the JUnit XML records no timestamp attribute" },
      ],
    },
    design_partner_disclosures: {
      file: "claims/disclosures.json",
      required: [
        { claim: "GATE-PERF-01", code: "gate_latency_single_host" },
        { claim: "SOAK-K-01", code: "soak_pass_k_eight" },
      ],
      written: ["gate_latency_single_host", "sbom_partial"],
      missing: [{ claim: "SOAK-K-01", code: "soak_pass_k_eight" }],
    },
    readiness: [
      {
        level: "design_partner",
        met: false,
        unmet: [
          { requirement: "evidence_campaign", reason: CAMPAIGN_SUMMARY },
          {
            requirement: "disclosure:soak_pass_k_eight",
            reason: "BETA claim SOAK-K-01's disclosure `soak_pass_k_eight` is not in claims/disclosures.json",
          },
        ],
      },
      {
        level: "ga",
        met: false,
        unmet: [
          { requirement: "design_partner", reason: "Design Partner Ready is not met (2 unmet)" },
          ...unmetOf("ga"),
        ],
      },
      {
        level: "public_production",
        met: false,
        unmet: [
          { requirement: "ga", reason: "GA Ready is not met (5 unmet)" },
          ...unmetOf("public_production"),
        ],
      },
    ],
    required: { level: "design_partner", met: false },
    soak_runs: soakRuns(),
    inputs: inputs(),
  };
}
