import type { SoakReport } from "../sim/soak/report.js";
import type { ScenarioResult } from "./scenario-results.js";

/**
 * A soak report as JUnit XML: one `<testsuite>` for the bundle, one `<testcase>` per scenario
 * (`classname` its dimension). A scenario with a failed trial gets a `<failure>`, one with an infra
 * error an `<error>`, one that ran no trial `<skipped>`. Pure and deterministic.
 */
export function soakJunit(report: SoakReport, scenarios: readonly ScenarioResult[]): string {
  const u = report.summary.thresholds_used as Record<string, unknown>;
  const num = (k: string) => (typeof u[k] === "number" ? (u[k] as number) : 0);
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="assay sim" tests="${num("trials_run")}" failures="${num("fail_count")}" errors="${num("infra_error_count")}" time="${report.run.duration_seconds}">`,
    `  <testsuite name="${attr(report.target.bundle_id)}" tests="${num("trials_run")}" failures="${num("fail_count")}" errors="${num("infra_error_count")}" skipped="0" time="${report.run.duration_seconds}" timestamp="${attr(report.run.started_at_utc.replace(/Z$/, ""))}">`,
    "    <properties>",
    ...[
      ["run_id", report.run.run_id],
      ["seed", report.run.seed.toString()],
      ["iterations", String(report.run.iterations)],
      ["bundle_digest", report.target.bundle_digest],
      ["policy_digest", report.target.policy_digest ?? ""],
      ["pass_rate", String(report.summary.pass_rate)],
      ["ci_95", report.summary.ci_95.join(",")],
      ["verdict", report.summary.pass_all ? "pass" : "fail"],
    ].map(([k, v]) => `      <property name="${attr(k as string)}" value="${attr(v as string)}"/>`),
    "    </properties>",
  ];
  for (const s of scenarios) {
    const n = s.passes + s.fails;
    const open = `    <testcase classname="${attr(s.dimension)}" name="${attr(s.id)}" time="0"`;
    if (n + s.infra === 0) {
      lines.push(`${open}>`, '      <skipped message="no trial ran"/>', "    </testcase>");
      continue;
    }
    if (s.fails === 0 && s.infra === 0) {
      lines.push(`${open}/>`);
      continue;
    }
    lines.push(`${open}>`);
    if (s.fails > 0) {
      const causes = [...s.rules]
        .sort(([a, x], [b, y]) => y - x || (a < b ? -1 : a > b ? 1 : 0))
        .map(([rule, count]) => `${rule} ×${count}`);
      if (s.expectations > 0) causes.push(`expectations unmet ×${s.expectations}`);
      lines.push(
        `      <failure message="${attr(`${s.fails} of ${n} trials failed`)}" type="soak_fail">${text(causes.join("\n"))}</failure>`,
      );
    }
    if (s.infra > 0) {
      lines.push(
        `      <error message="${attr(`${s.infra} of ${n + s.infra} trials were infra errors`)}" type="infra_error">${text(s.firstInfraError ?? "")}</error>`,
      );
    }
    lines.push("    </testcase>");
  }
  lines.push("  </testsuite>", "</testsuites>");
  return `${lines.join("\n")}\n`;
}

// XML 1.0 cannot carry most C0 controls, lone surrogates or U+FFFE/U+FFFF even as references.
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

/** Character data: `&`, `<`, `>` escaped; characters XML cannot hold become U+FFFD. */
export function text(s: string): string {
  return s.replace(NOT_XML, "\uFFFD").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** An attribute value in double quotes; tabs and line breaks as references so they survive normalization. */
export function attr(s: string): string {
  return text(s)
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;")
    .replace(/\t/g, "&#9;")
    .replace(/\n/g, "&#10;")
    .replace(/\r/g, "&#13;");
}
