import assert from "node:assert/strict";
import { mkdir, readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { verifyBundle } from "../../src/evidence/verify-bundle.js";
import { schemaValidator } from "../../src/lib/schema-validator.js";
import { readArchive } from "../../src/runner/archive.js";
import { capture } from "../../src/runner/capture.js";
import type { CapabilitySurface, CorrelationReport } from "../../src/runner/contract.js";
import { probeKernelBackends } from "../../src/runner/kernel/backend.js";
import { DETERMINISTIC_FILES, PROOF_FIXTURES, runProof } from "../../src/runner/proof.js";
import { assertBuilt } from "../gate/helpers.js";
import { ROOT } from "../run-assay.js";
import { suiteTempDir } from "../temp-dir.js";
import { goldenText } from "./contract-fixtures.js";

// `assay runner capture` and `assay runner proof` end to end, in process: the real gate (bin/assay)
// in front of the real fixture servers, the real kernel backends in a real cgroup.

const dir = suiteTempDir("assay-runner-capture-");
const NODE = process.execPath;
let backends: Awaited<ReturnType<typeof probeKernelBackends>> = [];

before(async () => {
  assertBuilt();
  backends = await probeKernelBackends();
});

/** Why a backend cannot run here, or false: the only reason a test below may skip. */
function missing(backend: "bpftrace" | "strace"): string | false {
  const p = backends.find((b) => b.backend === backend);
  return p?.available ? false : `${backend} cannot run here: ${p?.reason ?? "not probed"}`;
}

function fixtureCapture(name: string, out: string, kernel: "bpftrace" | "strace" | "off", runId: string) {
  const f = PROOF_FIXTURES.find((x) => x.name === name);
  if (!f) throw new Error(`no fixture ${name}`);
  return capture({
    out,
    runId,
    policy: [join(ROOT, f.policy)],
    mcpConfig: join(ROOT, f.mcpConfig),
    workFrom: join(ROOT, f.workFrom),
    kernel,
    agentShim: f.agentShim,
    command: [NODE, ...f.agent.map((a) => join(ROOT, a))],
    timeoutMs: 120_000,
  });
}

describe("runner capture", () => {
  test("without a kernel layer: the 8 files, valid, the reason in the notes, the agent's exit code", async () => {
    const out = join(dir, "off.tar.gz");
    const r = await capture({
      out,
      runId: "run_off",
      policy: [],
      kernel: "off",
      agentShim: "none",
      command: [NODE, "-e", "process.exit(3)"],
    });
    assert.equal(r.exitCode, 3);
    assert.equal(r.health.kernel_layer, "absent");
    assert.deepEqual(r.health.notes, [
      "s2_kernel_capture: kernel_layer=absent reason=kernel capture off (--kernel off)",
    ]);
    const a = await readArchive(out);
    assert.ok(schemaValidator("runner-observation-health")(a.health));
    assert.equal(a.files["layers/kernel.ndjson"].length, 0);
    const events = a.files["events.ndjson"]
      .toString("utf8")
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.deepEqual(
      events.map((e) => [e.type, e.exit_code ?? null]),
      [
        ["run_started", null],
        ["run_finished", 3],
      ],
    );
    for (const e of events) assert.ok(schemaValidator("runner-run-event")(e), JSON.stringify(e));
  });

  test("a timeout stops the agent's process group: exit 128 + SIGTERM", async () => {
    const r = await capture({
      out: join(dir, "timeout"),
      runId: "run_timeout",
      policy: [],
      kernel: "off",
      agentShim: "none",
      command: [NODE, "-e", "setInterval(() => {}, 1000)"],
      timeoutMs: 300,
    });
    assert.equal(r.exitCode, 143);
  });

  test("bad input is refused before anything runs", async () => {
    const base = {
      out: join(dir, "never"),
      kernel: "off" as const,
      agentShim: "none",
      command: [NODE, "-e", "0"],
    };
    await assert.rejects(capture({ ...base, policy: ["examples/runner/policy.yaml"] }), { code: "usage" });
    await assert.rejects(capture({ ...base, policy: [], runId: "run:colon" }), { code: "usage" });
    await assert.rejects(capture({ ...base, policy: [], command: [] }), { code: "usage" });
    await assert.rejects(capture({ ...base, policy: [], command: [join(dir, "no-such-agent")] }), {
      code: "runner_capture_failed",
    });
  });

  test("an agent shim that writes no SDK event is an error (contract §7)", async () => {
    await assert.rejects(
      capture({
        out: join(dir, "shim"),
        policy: [],
        kernel: "off",
        agentShim: "openai-agents",
        command: [NODE, "-e", "0"],
      }),
      { code: "runner_layer_invalid" },
    );
  });

  test("strace and bpftrace see the same surface of the mcp-sdk fixture", async (t) => {
    const why = missing("bpftrace") || missing("strace");
    if (why) return t.skip(why);
    const viaBpf = await fixtureCapture("mcp-sdk", join(dir, "bpf"), "bpftrace", "run_backends");
    const viaStrace = await fixtureCapture("mcp-sdk", join(dir, "strace"), "strace", "run_backends");
    for (const r of [viaBpf, viaStrace]) {
      assert.equal(r.exitCode, 0);
      assert.equal(r.health.kernel_layer, "complete");
    }
    assert.match(viaBpf.health.notes[0] ?? "", / backend=bpftrace$/);
    assert.match(viaStrace.health.notes[0] ?? "", / backend=strace$/);
    const [a, b] = await Promise.all([readArchive(join(dir, "bpf")), readArchive(join(dir, "strace"))]);
    assert.deepEqual(b.surface, a.surface);
    assert.deepEqual(b.correlation, a.correlation);
  });

  test("the gates it starts keep no pack cache: a first run on a machine shows nothing of it", async () => {
    // Without a kernel backend only the first check below can be made (CI has both).
    const kernel = !missing("strace") ? "strace" : !missing("bpftrace") ? "bpftrace" : "off";
    // A home with no cache, as on a fresh machine: the agent's MCP client passes HOME to each gate.
    const home = join(dir, "fresh-home");
    await mkdir(home);
    const saved = process.env.HOME;
    process.env.HOME = home;
    try {
      const r = await fixtureCapture("mcp-sdk", join(dir, "fresh"), kernel, "run_fresh_home");
      assert.equal(r.exitCode, 0);
      assert.equal(r.health.policy_layer, "present");
    } finally {
      if (saved === undefined) delete process.env.HOME;
      else process.env.HOME = saved;
    }
    assert.deepEqual(await readdir(home), [], "the gate wrote nothing under HOME");
    if (kernel === "off") return;
    const surface = (await readArchive(join(dir, "fresh"))).surface as CapabilitySurface;
    const cached = surface.filesystem_paths.filter((p) => p.startsWith(home) || p.includes("/.cache/assay"));
    assert.deepEqual(cached, []);
  });
});

describe("runner proof", () => {
  test("both fixtures: clean health bar, three-run determinism, idempotent diff in the golden's shape, a verifiable bundle", async (t) => {
    const why = missing("bpftrace") && missing("strace");
    if (why) return t.skip(why);
    const out = join(dir, "proof");
    const lines: string[] = [];
    const code = await runProof({ out, kernel: "auto", log: (l) => lines.push(l) });
    const log = await readFile(join(out, "proof.log"), "utf8");
    // The runner's own lines say why a layer is missing (a kernel backend that would not start).
    assert.equal(code, 0, `${log}\n${lines.join("\n")}`);
    assert.doesNotMatch(log, /^FAIL/m);
    // 2 fixtures × (3 × (exit, bar) + 2 determinism + 2 diffs)
    assert.equal(log.trim().split("\n").length, 2 * (3 * 2 + 2 + 2));
    const manifest = JSON.parse(await readFile(join(out, "proof-manifest.json"), "utf8")) as {
      result: string;
    };
    assert.ok(schemaValidator("runner-proof-manifest")(manifest));
    assert.equal(manifest.result, "PASS");

    const golden = JSON.parse(goldenText("capability-diff-s5-idempotent-v0.json"));
    for (const f of PROOF_FIXTURES) {
      const runs = await Promise.all([1, 2, 3].map((i) => readArchive(join(out, f.name, `run-${i}`))));
      for (const file of DETERMINISTIC_FILES)
        for (const r of runs.slice(1))
          assert.ok(r.files[file].equals(runs[0]?.files[file] as Buffer), `${f.name} ${file}`);
      const first = runs[0] as unknown as { correlation: CorrelationReport; surface: CapabilitySurface };
      assert.deepEqual(
        first.correlation.bindings.map((b) => [b.tool_call_id, b.policy_decision]),
        [["tc_runner_policy_001", "allow"]],
      );
      assert.ok(first.surface.filesystem_paths.some((p) => p.endsWith("/work/policy-input.txt")));
      assert.deepEqual(first.surface.policy_decisions, ["allow:read_file"]);
      const diff = JSON.parse(await readFile(join(out, f.name, "capability-diff-idempotent.json"), "utf8"));
      assert.deepEqual(shape(diff), shape(golden), "the idempotent diff has the golden's shape");
      assert.equal(JSON.stringify(shape(diff)), JSON.stringify(shape(golden)), "and its key order");
      assert.deepEqual(diff.binding_ids, golden.binding_ids);
      assert.deepEqual(diff.surface.mcp_tools, golden.surface.mcp_tools);
      assert.deepEqual(diff.surface.policy_decisions, golden.surface.policy_decisions);
      assert.deepEqual(diff.notes, golden.notes);
      assert.deepEqual(diff.preconditions, golden.preconditions);
    }
    const verified = await verifyBundle(join(out, "proof-bundle.tar.gz"));
    assert.equal(verified.valid, true, JSON.stringify(verified).slice(0, 500));
  });
});

/** Keys and value kinds, recursively, in key order; an array is an array whatever it holds (sets may be empty). */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return "array";
  if (v !== null && typeof v === "object")
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, shape(x)]));
  return typeof v;
}
