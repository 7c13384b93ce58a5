import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { writeBundle } from "../evidence/bundle-writer.js";
import { writeFileAtomic } from "../lib/atomic-write.js";
import { AssayError } from "../lib/errors.js";
import { PACKAGE } from "../lib/package-info.js";
import { schemaValidator } from "../lib/schema-validator.js";
import { readArchive } from "./archive.js";
import { capture, EXIT_KERNEL_UNSUPPORTED, type KernelMode } from "./capture.js";
import type { ObservationHealth } from "./contract.js";
import { capabilityDiff } from "./diff.js";
import { healthIsClean } from "./health-bar.js";
import { probeKernelBackends } from "./kernel/backend.js";

// INVARIANT: this module sits two levels below the package root in src/ and dist/ (the CLI
// bundle too), so `../../` is the package root.
const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** A bundled runtime fixture: an agent, its MCP server behind the gate, its work files. */
export interface ProofFixture {
  name: string;
  /** Relative to the package root. */
  agent: string[];
  policy: string;
  mcpConfig: string;
  workFrom: string;
  agentShim: string;
}

/** The two fixtures of examples/runner/ (docs/runner.md). */
export const PROOF_FIXTURES: readonly ProofFixture[] = [
  {
    name: "mcp-sdk",
    agent: ["examples/runner/mcp-sdk/agent.mjs"],
    policy: "examples/runner/policy.yaml",
    mcpConfig: "examples/runner/mcp-sdk/mcp.json",
    workFrom: "examples/runner/mcp-sdk/work",
    agentShim: "none",
  },
  {
    name: "openai-agents",
    agent: ["examples/runner/openai-agents/agent.mjs"],
    policy: "examples/runner/policy.yaml",
    mcpConfig: "examples/runner/openai-agents/mcp.json",
    workFrom: "examples/runner/openai-agents/work",
    agentShim: "openai-agents",
  },
];

/** The files three runs of one fixture must give byte for byte (contract §12, S5 gate). */
export const DETERMINISTIC_FILES = [
  "observation-health.json",
  "capability-surface.json",
  "correlation-report.json",
  "layers/sdk.ndjson",
  "layers/policy.ndjson",
] as const;

export interface ProofOptions {
  out: string;
  kernel: Exclude<KernelMode, "off">;
  runs?: number;
  fixtures?: readonly ProofFixture[];
  log?: (line: string) => void;
}

interface Check {
  check: string;
  result: "PASS" | "FAIL";
  detail: string;
}

/**
 * `assay runner proof`: capture each fixture `runs` times (3) with the same run id, check the clean
 * health bar, byte-identical determinism of the five compared files and the idempotent diff, and
 * write the captures, the diffs, `proof.log` (one PASS/FAIL line per check), `proof-manifest.json`
 * (what ran, with digests) and `proof-bundle.tar.gz` (the same as CloudEvents, an evidence bundle
 * `assay evidence attest` can sign). Returns the exit code: 0 all passed, 1 a check failed, 40 no
 * kernel backend can run here.
 */
export async function runProof(opts: ProofOptions): Promise<number> {
  const log = opts.log ?? (() => {});
  const runs = opts.runs ?? 3;
  const fixtures = opts.fixtures ?? PROOF_FIXTURES;
  const usable = await probeKernelBackends();
  const wanted = opts.kernel === "auto" ? ["bpftrace", "strace"] : [opts.kernel];
  const backend = usable.find((b) => b.available && wanted.includes(b.backend))?.backend;
  if (backend === undefined) {
    log(
      `runner proof: no kernel backend can run here (${usable.map((b) => `${b.backend}: ${b.reason ?? "ok"}`).join("; ")}): skipped, not passed`,
    );
    return EXIT_KERNEL_UNSUPPORTED;
  }
  await prepareOut(opts.out);

  const checks: (Check & { fixture: string })[] = [];
  const manifestFixtures: unknown[] = [];
  for (const f of fixtures) {
    const runId = `run_${f.name.replace(/[^A-Za-z0-9_-]/g, "_")}_proof`;
    const captured: { dir: string; health: ObservationHealth; exitCode: number }[] = [];
    const add = (check: string, ok: boolean, detail: string) => {
      checks.push({ fixture: f.name, check, result: ok ? "PASS" : "FAIL", detail });
      log(`${ok ? "PASS" : "FAIL"} ${f.name} ${check}${detail ? `: ${detail}` : ""}`);
    };
    let failedCapture = false;
    for (let i = 1; i <= runs && !failedCapture; i++) {
      const dir = join(opts.out, f.name, `run-${i}`);
      const r = await capture({
        out: dir,
        runId,
        policy: [join(ROOT, f.policy)],
        mcpConfig: join(ROOT, f.mcpConfig),
        workFrom: join(ROOT, f.workFrom),
        kernel: backend,
        agentShim: f.agentShim,
        command: [process.execPath, ...f.agent.map((a) => join(ROOT, a))],
        timeoutMs: 120_000,
        log,
      }).catch((err: unknown) => {
        if (err instanceof AssayError && err.code === "runner_kernel_unavailable") throw err;
        // A capture that could not be made is a failed check, listed with the others.
        add(`run-${i} capture`, false, err instanceof Error ? err.message : String(err));
        failedCapture = true;
        return null;
      });
      if (r === null) break;
      captured.push({ dir, health: r.health, exitCode: r.exitCode });
      add(`run-${i} agent exit`, r.exitCode === 0, `exit ${r.exitCode}`);
      const bar = healthIsClean(r.health);
      add(`run-${i} clean health bar`, bar.clean, bar.clean ? barText(r.health) : bar.failing.join(", "));
    }
    if (failedCapture) continue;
    const first = captured[0]?.dir as string;
    for (const later of captured.slice(1)) {
      const differing: string[] = [];
      for (const file of DETERMINISTIC_FILES) {
        const [a, b] = await Promise.all([readFile(join(first, file)), readFile(join(later.dir, file))]);
        if (!a.equals(b)) differing.push(file);
      }
      add(
        `${relative(join(opts.out, f.name), later.dir)} byte-identical to run-1`,
        differing.length === 0,
        differing.length === 0 ? DETERMINISTIC_FILES.join(", ") : `differs: ${differing.join(", ")}`,
      );
    }
    const evidence = await readArchive(first);
    const idem = capabilityDiff(evidence, evidence);
    const idemText = `${JSON.stringify(idem, null, 2)}\n`;
    await writeFile(join(opts.out, f.name, "capability-diff-idempotent.json"), idemText);
    const idempotent =
      idem.status === "clean" &&
      idem.notes.length === 1 &&
      idem.notes[0]?.startsWith("capability_diff_idempotent:") === true &&
      idem.binding_ids.unchanged.length > 0;
    add(
      "diff(run-1, run-1) idempotent",
      idempotent,
      `status ${idem.status}, bindings ${idem.binding_ids.unchanged.join(",")}`,
    );
    const last = captured[captured.length - 1]?.dir as string;
    const across = capabilityDiff(evidence, await readArchive(last));
    await writeFile(
      join(opts.out, f.name, `capability-diff-run-1-run-${runs}.json`),
      `${JSON.stringify(across, null, 2)}\n`,
    );
    add(
      `diff(run-1, run-${runs}) clean and unchanged`,
      across.status === "clean" && across.notes.length === 1,
      `status ${across.status}`,
    );

    manifestFixtures.push({
      name: f.name,
      run_id: runId,
      agent_shim: f.agentShim,
      command: ["node", ...f.agent],
      policy: f.policy,
      mcp_config: f.mcpConfig,
      runs: await Promise.all(
        captured.map(async (c) => ({ path: relative(opts.out, c.dir), files: await digests(c.dir) })),
      ),
      idempotent_diff: { path: `${f.name}/capability-diff-idempotent.json`, sha256: sha256(idemText) },
    });
  }

  const failed = checks.filter((c) => c.result === "FAIL");
  const manifest = {
    schema: "assay.runner.proof_manifest.v0",
    producer: { name: PACKAGE.name, version: PACKAGE.version },
    node_version: process.version,
    platform: process.platform,
    kernel_backend: backend,
    runs_per_fixture: runs,
    compared_files: [...DETERMINISTIC_FILES],
    fixtures: manifestFixtures,
    checks: checks.map(({ fixture, check, result, detail }) => ({ fixture, check, result, detail })),
    result: failed.length === 0 ? "PASS" : "FAIL",
  };
  const validate = schemaValidator("runner-proof-manifest");
  if (!validate(manifest))
    throw new AssayError(
      "runner_contract_invalid",
      `proof manifest does not match its schema: ${validate.errors?.[0]?.instancePath || "/"} ${validate.errors?.[0]?.message ?? ""}`,
    );
  await writeFileAtomic(join(opts.out, "proof-manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  await writeFileAtomic(
    join(opts.out, "proof.log"),
    checks.map((c) => `${c.result} ${c.fixture} ${c.check}${c.detail ? `: ${c.detail}` : ""}\n`).join(""),
  );
  const eventsPath = join(opts.out, "proof-events.ndjson");
  await writeFileAtomic(eventsPath, proofEvents(manifest, checks));
  await writeBundle({ events: eventsPath, out: join(opts.out, "proof-bundle.tar.gz") });
  log(
    `runner proof: ${checks.length - failed.length} of ${checks.length} checks passed; ${opts.out}/proof-manifest.json`,
  );
  return failed.length === 0 ? 0 : 1;
}

function barText(h: ObservationHealth): string {
  return `kernel_layer=${h.kernel_layer} ringbuf_drops=${h.ringbuf_drops} policy_layer=${h.policy_layer} sdk_layer=${h.sdk_layer} cgroup_correlation=${h.cgroup_correlation}`;
}

/** The proof as CloudEvents: the manifest, then one event per check. */
function proofEvents(
  manifest: Record<string, unknown>,
  checks: readonly (Check & { fixture: string })[],
): string {
  const source = "urn:assay:runner-proof";
  const lines = [
    { specversion: "1.0", id: "manifest", source, type: "assay.runner.proof.manifest", data: manifest },
    ...checks.map((c, i) => ({
      specversion: "1.0",
      id: `check-${i}`,
      source,
      type: "assay.runner.proof.check",
      data: c,
    })),
  ];
  return lines.map((l) => `${JSON.stringify(l)}\n`).join("");
}

async function digests(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out[relative(dir, p)] = sha256(await readFile(p));
    }
  };
  await walk(dir);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function sha256(data: string | Buffer): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

async function prepareOut(out: string): Promise<void> {
  const entries = await readdir(out).catch((err: NodeJS.ErrnoException) => {
    if (err.code === "ENOENT") return [] as string[];
    throw new AssayError("output_unwritable", `cannot read --out: ${err.code}`, { where: out });
  });
  if (entries.length > 0)
    throw new AssayError("output_unwritable", "--out must not exist or be empty", { where: out });
  await rm(out, { recursive: true, force: true });
  await mkdir(out, { recursive: true });
}
