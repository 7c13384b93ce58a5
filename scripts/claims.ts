/**
 * `npm run claims`: gather the evidence CI can produce for Assay's own claims (claims/assay.yaml)
 * into one evidence directory, then judge them with `assay matrix`. Quick runs: a seeded soak of
 * the demo agent with its signed audit kit, the runner's proof and one recorded capture, and the
 * benchmarks the claims name, each recorded with `assay matrix record` (its command and time).
 *
 *   tsx scripts/claims.ts [--out <dir>] [--skip-benches]
 *
 * `--out` (default claims/out) gets `evidence/` and `matrix/` (matrix.json, matrix.md,
 * matrix.html). Two artifacts come from elsewhere when they are to count: the test suite's JUnit
 * (`ASSAY_TEST_JUNIT=<out>/evidence/npm-test.junit.xml npm test`) and the conformance table
 * (`npm run conformance -- --json <out>/evidence/conformance.json`); .ci/run writes both. A claim
 * whose evidence is missing stays pending, as the registry says. Exit 0 when the matrix was built
 * (whatever it judged: a missed benchmark target is a finding it reports, not a failure of this
 * script); 2 when a step could not produce its artifact or the matrix could not be built.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..");
const ASSAY = join(ROOT, "bin/assay");

function parseArgs(argv: string[]): { out: string; benches: boolean } {
  let out = join(ROOT, "claims/out");
  let benches = true;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--out") {
      const v = argv[++i];
      if (v === undefined) usage("--out needs a directory");
      out = v;
    } else if (a === "--skip-benches") benches = false;
    else usage(`unknown argument \`${a}\``);
  }
  return { out, benches };
}

function usage(why: string): never {
  process.stderr.write(`claims: ${why}\nusage: tsx scripts/claims.ts [--out <dir>] [--skip-benches]\n`);
  process.exit(2);
}

/** Every artifact this script writes into the evidence directory. */
const OWN_ARTIFACTS = [
  "soak-demo-agent.json",
  "audit-kit-verify.json",
  "evidence-verify-runner-proof.json",
  "runner-diff-mcp-sdk.json",
  "runner-capture-mcp-sdk.json",
  ...["policy", "evidence", "startup", "gate", "serve"].map((b) => `bench-${b}.json`),
];

const failed: string[] = [];

/** Run one step; `ok` lists the exit codes that mean it produced its artifact. */
function step(name: string, command: string[], ok: number[] = [0]): number {
  const started = Date.now();
  process.stderr.write(`claims: ${name} ...\n`);
  const r = spawnSync(command[0] as string, command.slice(1), {
    cwd: ROOT,
    stdio: ["ignore", "ignore", "inherit"],
  });
  const code = r.status ?? 2;
  const seconds = ((Date.now() - started) / 1000).toFixed(0);
  if (!ok.includes(code)) {
    failed.push(`${name} (exit ${code})`);
    process.stderr.write(`claims: ${name} failed with exit ${code} after ${seconds} s\n`);
  } else process.stderr.write(`claims: ${name} done in ${seconds} s (exit ${code})\n`);
  return code;
}

const record = (kind: string, file: string, command: string[]) => [
  ASSAY,
  "matrix",
  "record",
  "--kind",
  kind,
  "--out",
  file,
  "--",
  ...command,
];

function main(): number {
  const { out, benches } = parseArgs(process.argv.slice(2));
  const evidence = join(out, "evidence");
  mkdirSync(evidence, { recursive: true });
  const work = mkdtempSync(join(tmpdir(), "assay-claims-"));
  const ev = (f: string) => join(evidence, f);
  // What this script produces is removed first: a step that fails (or is skipped) leaves its
  // claims without evidence, never judged on an earlier run's file. The JUnit and conformance
  // files .ci/run puts there are kept; --now below puts any stale one outside the window.
  for (const f of OWN_ARTIFACTS) rmSync(ev(f), { force: true });
  try {
    // Soak statistics, signed: the demo agent slips on purpose, so its verdict is a finding (1).
    const soak = ev("soak-demo-agent.json");
    step(
      "soak of examples/demo-agent",
      [
        ASSAY,
        "sim",
        "soak",
        "--target",
        "examples/demo-agent",
        "--iterations",
        "2000",
        "--seed",
        "1",
        "--report",
        soak,
        "--no-progress",
      ],
      [0, 1],
    );
    const key = join(work, "signer");
    const kit = join(work, "kit");
    step("signing key", [ASSAY, "evidence", "keygen", "--out", key]);
    step("audit kit", [
      ASSAY,
      "audit-kit",
      "build",
      "--report",
      soak,
      "--target",
      "examples/demo-agent",
      "--key",
      `${key}.key`,
      "--out",
      kit,
    ]);
    step(
      "audit kit verification",
      record("audit_kit_verify", ev("audit-kit-verify.json"), [
        ASSAY,
        "audit-kit",
        "verify",
        kit,
        "--key",
        `${key}.pub`,
        "--json",
      ]),
    );

    // The runner: its proof (captures, diffs, an evidence bundle), and one capture recorded with its time.
    const proof = join(work, "proof");
    const proofExit = step("runner proof", [ASSAY, "runner", "proof", "--out", proof], [0, 1, 40]);
    if (proofExit !== 40) {
      step(
        "runner proof bundle verification",
        record("evidence_verify", ev("evidence-verify-runner-proof.json"), [
          ASSAY,
          "evidence",
          "verify",
          join(proof, "proof-bundle.tar.gz"),
          "--json",
        ]),
      );
      step(
        "runner diff of two mcp-sdk captures",
        record("runner_diff", ev("runner-diff-mcp-sdk.json"), [
          ASSAY,
          "runner",
          "diff",
          join(proof, "mcp-sdk", "run-1"),
          join(proof, "mcp-sdk", "run-2"),
        ]),
      );
      step(
        "runner capture of the mcp-sdk agent",
        record("runner_archive", ev("runner-capture-mcp-sdk.json"), [
          ASSAY,
          "runner",
          "capture",
          "--out",
          join(work, "capture"),
          "--json",
          "--policy",
          "examples/runner/policy.yaml",
          "--mcp-config",
          "examples/runner/mcp-sdk/mcp.json",
          "--work-from",
          "examples/runner/mcp-sdk/work",
          "--",
          process.execPath,
          "examples/runner/mcp-sdk/agent.mjs",
        ]),
      );
    } else
      process.stderr.write(
        "claims: no kernel backend here (bpftrace or strace): the runner's claims stay pending\n",
      );

    if (benches) {
      const npm = process.platform === "win32" ? "npm.cmd" : "npm";
      for (const [name, extra] of [
        ["policy", []],
        ["evidence", []],
        ["startup", ["--runs", "7"]],
        ["gate", []],
        ["serve", []],
      ] as const) {
        step(
          `bench:${name}`,
          record("bench", ev(`bench-${name}.json`), [
            npm,
            "run",
            "-s",
            `bench:${name}`,
            "--",
            "--json",
            ...extra,
          ]),
        );
      }
    }

    const matrix = join(out, "matrix");
    const code = spawnSync(
      ASSAY,
      [
        "matrix",
        "--claims",
        "claims/assay.yaml",
        "--evidence",
        relative(ROOT, evidence) || ".",
        "--disclosures",
        "claims/disclosures.yaml",
        "--out",
        relative(ROOT, matrix) || ".",
      ],
      { cwd: ROOT, stdio: "inherit" },
    ).status;
    if (code !== 0) failed.push(`assay matrix (exit ${code})`);
    else
      process.stderr.write(
        `claims: the matrix is in ${relative(process.cwd(), matrix)}/ (matrix.md, matrix.html, matrix.json)\n`,
      );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  if (failed.length > 0) {
    process.stderr.write(`claims: ${failed.length} step(s) failed: ${failed.join("; ")}\n`);
    return 2;
  }
  return 0;
}

process.exit(main());
