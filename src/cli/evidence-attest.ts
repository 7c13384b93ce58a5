import { type Command, Option } from "commander";
import { KEY_ALGORITHMS } from "../evidence/key-algorithms.js";
import type { AttestCli, KeygenCli, VerifyCli } from "./actions/evidence-attest.js";

type Run = (fn: () => Promise<number>) => Promise<void>;

/** `assay evidence keygen | attest | verify-attestation`: keys and DSSE-signed in-toto statements. */
export function registerEvidenceAttest(evidence: Command, run: Run): void {
  evidence
    .command("keygen")
    .description("generate a signing key pair: <name>.key (PKCS#8 PEM, mode 0600) and <name>.pub (SPKI PEM)")
    .requiredOption("--out <name>", "path prefix of the two files")
    .addOption(
      new Option("--alg <alg>", "signature algorithm").choices([...KEY_ALGORITHMS]).default("ed25519"),
    )
    .option("--force", "overwrite existing key files")
    .addHelpText("after", "\nExit codes: 0 written; 2 a file exists (without --force) or cannot be written.")
    .exitOverride()
    .action((opts: KeygenCli) =>
      run(async () => (await import("./actions/evidence-attest.js")).keygen(opts)),
    );

  evidence
    .command("attest")
    .description("sign an in-toto Statement v1 about files into a DSSE envelope")
    .requiredOption("--subject <file...>", "artifact(s) the statement is about (named by basename)")
    .requiredOption("--predicate-type <uri>", "URI naming the predicate's type")
    .requiredOption("--predicate <file>", "predicate: a JSON object, from a file or - for stdin")
    .requiredOption("--key <pem>", "private key (from `assay evidence keygen`)")
    .requiredOption("--out <file>", "where to write the envelope (e.g. name.dsse.json)")
    .addHelpText(
      "after",
      "\nSee docs/attestations.md. Exit codes: 0 written; 2 unreadable or invalid input, unwritable output.",
    )
    .exitOverride()
    .action((opts: AttestCli) =>
      run(async () => (await import("./actions/evidence-attest.js")).attestCmd(opts)),
    );

  evidence
    .command("verify-attestation")
    .description("verify a DSSE-signed in-toto statement with a public key, and optionally its subjects")
    .argument("<file>", "the envelope (.dsse.json), or - for stdin")
    .requiredOption("--key <pem>", "public key (SPKI PEM) of the signer")
    .option("--subject <file...>", "file(s) whose sha256 must match the subject with the same basename")
    .option(
      "--any-keyid",
      "try every signature with the key, whatever its keyid (envelopes from tools that omit it or use their own)",
    )
    .option("--json", "print the result as JSON")
    .addHelpText(
      "after",
      [
        "",
        "Checks, in order: envelope, payload_type, signature, statement, subjects; the first failure",
        "ends the run. Exit codes: 0 valid; 1 invalid (tampered, wrong key, unknown payloadType, bad",
        "statement, digest mismatch); 2 unreadable or malformed input (not JSON, not a DSSE envelope).",
      ].join("\n"),
    )
    .exitOverride()
    .action((file: string, opts: VerifyCli) =>
      run(async () => (await import("./actions/evidence-attest.js")).verifyAttestationCmd(file, opts)),
    );
}
