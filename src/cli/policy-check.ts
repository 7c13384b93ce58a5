import type { Command } from "commander";

export function registerPolicyCheck(
  policy: Command,
  run: (fn: () => Promise<number>) => Promise<void>,
): void {
  policy
    .command("check")
    .description("validate and compile packs; print rule counts and the policy digest")
    .argument("<pack...>", "policy pack files (YAML or JSON)")
    .option("--json", "print a JSON summary")
    .addHelpText("after", "\nExit codes: 0 the packs compile, 2 a pack is invalid (every problem is listed).")
    .action((packs: string[], opts: { json?: boolean }) =>
      run(async () => (await import("./actions/policy-check.js")).policyCheck(packs, opts)),
    );
}
