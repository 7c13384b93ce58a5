import { Command, CommanderError } from "commander";
import { EXIT } from "../lib/errors.js";
import { PACKAGE } from "../lib/package-info.js";
import { registerAdapt } from "./adapt.js";
import { registerAuditKit } from "./audit-kit.js";
import { registerEvidence } from "./evidence.js";
import { reportError } from "./io.js";
import { registerMatrix } from "./matrix.js";
import { registerMcpPins } from "./mcp-pins.js";
import { registerMcpProxy } from "./mcp-proxy.js";
import { registerMcpWrap } from "./mcp-wrap.js";
import { registerPolicyCheck } from "./policy-check.js";
import { registerPolicyEval } from "./policy-eval.js";
import { registerPolicyTest } from "./policy-test.js";
import { registerRunner } from "./runner.js";
import { registerServe } from "./serve.js";
import { registerSim } from "./sim.js";

const { version } = PACKAGE;

/** Run a command body and turn its result or error into the process exit code. */
async function run(fn: () => Promise<number>): Promise<void> {
  try {
    process.exitCode = await fn();
  } catch (err) {
    process.exitCode = reportError(err);
  }
}

export function buildProgram(): Command {
  const program = new Command("assay")
    .description("Policy gate and evidence toolkit for AI agents that use tools through MCP")
    .version(version)
    .showHelpAfterError("(run with --help for usage)")
    // Lets a command's subcommand own an option name its parent has too (`matrix record --out`).
    .enablePositionalOptions()
    .exitOverride();
  const policy = program
    .command("policy")
    .description("check, evaluate and test policy packs")
    .exitOverride();
  registerPolicyCheck(policy, run);
  registerPolicyEval(policy, run);
  registerPolicyTest(policy, run);
  for (const c of policy.commands) c.exitOverride();
  const mcp = program
    .command("mcp")
    .description("the MCP gate: wrap servers, proxy remote ones, pin tools")
    .exitOverride();
  registerMcpWrap(mcp, run);
  registerMcpProxy(mcp, run);
  registerMcpPins(mcp, run);
  for (const c of mcp.commands) c.exitOverride();
  registerSim(program, run);
  registerEvidence(program, run);
  registerAdapt(program, run);
  registerAuditKit(program, run);
  registerRunner(program, run);
  registerServe(program, run);
  registerMatrix(program, run);
  return program;
}

export async function main(argv: readonly string[]): Promise<void> {
  try {
    await buildProgram().parseAsync([...argv], { from: "user" });
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; every usage error is exit 2, as for any bad input.
      process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.failure;
      return;
    }
    process.exitCode = reportError(err);
  }
}
