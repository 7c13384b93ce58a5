import type { Command } from "commander";
import type { ServeCli } from "./actions/serve.js";

type Run = (fn: () => Promise<number>) => Promise<void>;

/** `assay serve`: the policy decision service. */
export function registerServe(program: Command, run: Run): void {
  program
    .command("serve")
    .description("run the policy decision service (HTTP API: verify, adapt, policies; OAuth2, TLS, metrics)")
    .requiredOption("-c, --config <serve.yaml>", "service config (schemas/serve-config.schema.json)")
    .option("--listen <host:port>", "listen here instead of the config's `listen`")
    .option("--check", "validate the config, load the policies and TLS files, then exit without listening")
    .addHelpText(
      "after",
      "\nSee docs/serve.md. Stops on SIGTERM or SIGINT: readiness goes false, in-flight requests drain.\nExit codes: 0 stopped cleanly (or --check passed); 2 invalid config, unreadable TLS files, or cannot listen.",
    )
    .exitOverride()
    .action((opts: ServeCli) => run(async () => (await import("./actions/serve.js")).serve(opts)));
}
