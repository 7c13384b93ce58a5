import type { Command } from "commander";

export function registerPolicyTest(policy: Command, run: (fn: () => Promise<number>) => Promise<void>): void {
  policy
    .command("test")
    .description("run policy unit tests: calls or traces with their expected decisions")
    .argument("<path...>", "test files, or directories searched for *.test.yaml")
    .option("--json", "print every case result as JSON")
    .option("-v, --verbose", "list passing cases too")
    .addHelpText(
      "after",
      "\nExit codes: 0 every case passed, 1 a case failed, 2 a test file or pack is invalid.",
    )
    .action((paths: string[], opts: { json?: boolean; verbose?: boolean }) =>
      run(async () => (await import("./actions/policy-test.js")).policyTest(paths, opts)),
    );
}
