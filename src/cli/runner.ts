import { type Command, Option } from "commander";
import type { CaptureCli, DiffCli, ProofCli } from "./actions/runner.js";

type Run = (fn: () => Promise<number>) => Promise<void>;

/** `assay runner capture | diff | proof`: what an agent actually did, as normalized evidence. */
export function registerRunner(program: Command, run: Run): void {
  const runner = program
    .command("runner")
    .description("observe an agent from kernel, SDK and policy; diff capabilities between runs")
    .exitOverride();
  runner
    .command("capture")
    .description("run an agent once in its own cgroup and record its kernel, policy and SDK layers")
    .argument("<agent...>", "the agent command and its arguments, after `--`")
    .requiredOption("--out <dir|file.tar.gz>", "where the archive goes: a new directory, or a .tar.gz file")
    .option(
      "--run-id <id>",
      "the run id ([A-Za-z0-9_-]+; default: derived from the command, packs and MCP config)",
    )
    .option("-p, --policy <pack...>", "policy packs for the gates in front of the MCP servers (repeatable)")
    .option(
      "--mcp-config <file>",
      'the agent\'s MCP servers ({"mcpServers": {...}}), each run behind `assay mcp wrap`',
    )
    .addOption(
      new Option("--kernel <backend>", "kernel layer backend: auto tries bpftrace, then strace")
        .choices(["auto", "bpftrace", "strace", "off"])
        .default("auto"),
    )
    .option("--timeout <s>", "stop the agent (SIGTERM, then SIGKILL) after this many seconds")
    .option("--agent-shim <name>", "what reports the agent's SDK events (run_started.agent_shim)", "none")
    .option(
      "--work <dir>",
      "the agent's work directory (ASSAY_RUNNER_WORK_DIR), emptied first (default: <tmp>/assay-runner-<run id>/work)",
    )
    .option(
      "--work-from <dir>",
      "copy this directory's files into the work directory before the agent starts",
    )
    .option("--drain-ms <n>", "how long the kernel backend keeps reading after the agent exits", "100")
    .option("--json", "print the observation health as JSON on stdout")
    .addHelpText(
      "after",
      [
        "",
        "The agent gets ASSAY_MCP_CONFIG (its servers, gated), ASSAY_RUNNER_WORK_DIR, and",
        "ASSAY_RUNNER_SDK_EVENT_LOG / _RUN_ID / _SCHEMA for its SDK events. See docs/runner.md.",
        "",
        "Example:",
        "  assay runner capture --out run.tar.gz --policy examples/runner/policy.yaml \\",
        "    --mcp-config examples/runner/mcp-sdk/mcp.json --work-from examples/runner/mcp-sdk/work \\",
        "    -- node examples/runner/mcp-sdk/agent.mjs",
        "",
        "Exit codes: the agent's own exit code (128 + signal when a signal ended it); 2 invalid",
        "input or a capture that could not be written; 40 the --kernel backend asked for cannot",
        "run here (skipped, never passed).",
      ].join("\n"),
    )
    .exitOverride()
    .action((agent: string[], opts: CaptureCli) =>
      run(async () => (await import("./actions/runner.js")).runnerCapture(agent, opts)),
    );
  runner
    .command("diff")
    .description("compare the capability surfaces and bindings of two captures (capability_diff.v0)")
    .argument("<base>", "a capture: its directory or .tar.gz")
    .argument("<head>", "a capture: its directory or .tar.gz")
    .option("--out <file>", "write the diff here instead of stdout")
    .addHelpText(
      "after",
      [
        "",
        "Descriptive only: it never judges a difference acceptable.",
        "Exit codes: 0 clean and identical; 1 clean with a difference; 2 preconditions not met",
        "(status partial:* or failed; the document is still written) or invalid input.",
      ].join("\n"),
    )
    .exitOverride()
    .action((base: string, head: string, opts: DiffCli) =>
      run(async () => (await import("./actions/runner.js")).runnerDiff(base, head, opts)),
    );
  runner
    .command("proof")
    .description("capture both bundled fixtures three times, compare, diff, and package the proof")
    .requiredOption("--out <dir>", "the proof directory (created; must not exist or be empty)")
    .addOption(
      new Option("--kernel <backend>", "kernel layer backend for the captures")
        .choices(["auto", "bpftrace", "strace"])
        .default("auto"),
    )
    .addHelpText(
      "after",
      "\nExit codes: 0 every check passed; 1 a check failed (listed); 2 invalid input or a capture\nthat could not run; 40 no kernel backend can run here (skipped, never passed).",
    )
    .exitOverride()
    .action((opts: ProofCli) => run(async () => (await import("./actions/runner.js")).runnerProof(opts)));
  for (const c of runner.commands) c.exitOverride();
}
