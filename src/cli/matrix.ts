import { type Command, Option } from "commander";
import type { MatrixCli, RecordCli } from "./actions/matrix.js";

/** `assay matrix`: the claim-level evidence matrix, and `assay matrix record` for the evidence it reads. */
export function registerMatrix(program: Command, run: (fn: () => Promise<number>) => Promise<void>): void {
  const matrix = program
    .command("matrix")
    .description(
      "judge a claim registry against evidence artifacts: states, recommendations, readiness levels",
    )
    .option("--claims <file>", "the claim registry (YAML or JSON, schemas/matrix-claims.schema.json)")
    .option("--evidence <dir...>", "directories the registry's evidence files are found in (read only)")
    .option(
      "--disclosures <file>",
      "the written design-partner disclosures ({written_disclosures: [code...]})",
    )
    .option("--window <duration>", "the evidence campaign window: every artifact's own time within it", "7d")
    .option(
      "--now <time>",
      "RFC 3339 UTC time the window ends at and the matrix is dated (default: now; the window then ends at the newest artifact)",
    )
    .addOption(
      new Option("--require <level>", "exit 1 unless this readiness level is met").choices([
        "design-partner",
        "ga",
        "public-production",
      ]),
    )
    .option("--out <dir>", "write matrix.json, matrix.md and matrix.html here")
    .option("--json", "print matrix.json on stdout instead of the Markdown")
    .addHelpText(
      "after",
      [
        "",
        "Example:",
        "  assay matrix --claims claims/assay.yaml --evidence ci-evidence --disclosures claims/disclosures.json \\",
        "    --out matrix --require design-partner",
        "",
        "States: VALIDATED, BETA, NOT_STARTED, DEFER, FUTURE_REQUIRED (docs/matrix.md). The same inputs",
        "and --now give byte-identical files; nothing is written inside an evidence directory.",
        "",
        "Exit codes: 0 the --require level is met (or none was asked for); 1 it is not; 2 invalid input",
        "(a bad registry, an unreadable or invalid artifact, named with file and pointer) or usage.",
      ].join("\n"),
    )
    // `matrix record --out` is record's own: options after a subcommand's name belong to it.
    .enablePositionalOptions()
    .exitOverride()
    .action((opts: MatrixCli) => run(async () => (await import("./actions/matrix.js")).matrixBuild(opts)));
  matrix
    .command("record")
    .description("run a command and save its JSON output with the command and time, as matrix evidence")
    .addOption(
      new Option("--kind <kind>", "what the output is")
        .choices([
          "bench",
          "audit_kit_verify",
          "evidence_verify",
          "runner_diff",
          "runner_archive",
          "readiness_report",
          "soak_report",
          "conformance",
        ])
        .makeOptionMandatory(),
    )
    .requiredOption("--out <file>", "the recorded output to write (JSON)")
    .argument("<command...>", "the command and its arguments, after `--`")
    .addHelpText(
      "after",
      [
        "",
        "Example:",
        "  assay matrix record --kind bench --out evidence/bench-policy.json -- npm run -s bench:policy -- --json",
        "",
        "The output is the command's whole stdout when it is JSON, else its last line that is a JSON",
        "object. The command's own exit code is recorded, not passed on.",
        "",
        "Exit codes: 0 recorded; 2 the command could not start or printed no JSON of that kind (nothing written).",
      ].join("\n"),
    )
    .exitOverride()
    .action((command: string[], opts: RecordCli) =>
      run(async () => (await import("./actions/matrix.js")).matrixRecord(command, opts)),
    );
}
