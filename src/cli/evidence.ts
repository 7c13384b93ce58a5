import type { Command } from "commander";
import { registerEvidenceAttest } from "./evidence-attest.js";
import { registerEvidenceJson } from "./evidence-json.js";

/** `assay evidence …`: canonical JSON, evidence bundles, keys and signed attestations. */
export function registerEvidence(program: Command, run: (fn: () => Promise<number>) => Promise<void>): void {
  const evidence = program
    .command("evidence")
    .description("canonical JSON, evidence bundles, keys and signed in-toto attestations")
    .exitOverride();
  registerEvidenceJson(evidence, run);
  registerEvidenceAttest(evidence, run);
  for (const c of evidence.commands) c.exitOverride();
}
