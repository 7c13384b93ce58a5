import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { type Command, Option } from "commander";
import { attest } from "../evidence/attest.js";
import { serializeEnvelope } from "../evidence/dsse.js";
import { writeKeyPair } from "../evidence/key-files.js";
import {
  KEY_ALGORITHMS,
  type KeyAlgorithm,
  keyId,
  readPrivateKeyFile,
  readPublicKeyFile,
} from "../evidence/keys.js";
import { type Subject, subjectFromBytes } from "../evidence/statement.js";
import { type AttestationVerification, verifyAttestation } from "../evidence/verify-attestation.js";
import { writeFileAtomic } from "../lib/atomic-write.js";
import { AssayError, EXIT } from "../lib/errors.js";
import { printJson, readJsonInput } from "./io.js";

type Run = (fn: () => Promise<number>) => Promise<void>;

interface KeygenCli {
  out: string;
  alg: KeyAlgorithm;
  force?: boolean;
}

interface AttestCli {
  subject: string[];
  predicateType: string;
  predicate: string;
  key: string;
  out: string;
}

interface VerifyCli {
  key: string;
  subject?: string[];
  anyKeyid?: boolean;
  json?: boolean;
}

const PREDICATE_TYPE = /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/;

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
    .action((opts: KeygenCli) => run(() => keygen(opts)));

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
    .action((opts: AttestCli) => run(() => attestCmd(opts)));

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
    .action((file: string, opts: VerifyCli) => run(() => verifyCmd(file, opts)));
}

async function keygen(opts: KeygenCli): Promise<number> {
  const written = await writeKeyPair(opts.out, opts.alg, { force: opts.force === true });
  process.stdout.write(
    [
      `private key  ${written.privateKeyPath}  (${written.algorithm}, mode 0600: keep it secret)`,
      `public key   ${written.publicKeyPath}`,
      `keyid        ${written.keyid}`,
      "",
    ].join("\n"),
  );
  return EXIT.ok;
}

async function attestCmd(opts: AttestCli): Promise<number> {
  if (!PREDICATE_TYPE.test(opts.predicateType))
    throw new AssayError("usage", `--predicate-type \`${opts.predicateType}\` is not a URI`);
  const predicate = await readJsonInput(opts.predicate, "predicate");
  if (predicate === null || typeof predicate !== "object" || Array.isArray(predicate))
    throw new AssayError("input_invalid", "the predicate must be a JSON object", { where: opts.predicate });
  const privateKey = await readPrivateKeyFile(opts.key);
  const subjects = await readSubjects(opts.subject);
  const envelope = await attest({
    subjects,
    predicateType: opts.predicateType,
    predicate: predicate as Record<string, unknown>,
    privateKey,
  });
  await writeFileAtomic(opts.out, serializeEnvelope(envelope));
  process.stdout.write(
    `wrote ${opts.out}: ${subjects.length} subject(s), predicateType ${opts.predicateType}, keyid ${keyId(privateKey)}\n`,
  );
  return EXIT.ok;
}

async function verifyCmd(file: string, opts: VerifyCli): Promise<number> {
  const publicKey = await readPublicKeyFile(opts.key);
  const value = await readJsonInput(file, "envelope");
  const subjects = await readSubjects(opts.subject ?? []);
  const result = verifyAttestation(value, { publicKey, subjects, anyKeyid: opts.anyKeyid === true });
  if (opts.json === true) printJson(jsonResult(file, result));
  else process.stdout.write(table(file, result));
  return result.verdict === "valid" ? EXIT.ok : result.verdict === "invalid" ? EXIT.finding : EXIT.failure;
}

/** Read subject files; each is named by its basename, which must be unique. */
async function readSubjects(paths: readonly string[]): Promise<Subject[]> {
  const out: Subject[] = [];
  const byName = new Map<string, string>();
  for (const path of paths) {
    const name = basename(path);
    const other = byName.get(name);
    if (other !== undefined)
      throw new AssayError("usage", `subjects \`${other}\` and \`${path}\` have the same name \`${name}\``);
    byName.set(name, path);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (err) {
      throw new AssayError(
        "input_unreadable",
        `cannot read subject: ${(err as NodeJS.ErrnoException).code ?? err}`,
        {
          where: path,
          cause: err,
        },
      );
    }
    out.push(subjectFromBytes(name, bytes));
  }
  return out;
}

function jsonResult(file: string, r: AttestationVerification) {
  return {
    file,
    verdict: r.verdict,
    valid: r.verdict === "valid",
    keyid: r.keyid,
    checks: r.checks,
    ...(r.statement
      ? {
          predicateType: r.statement.predicateType,
          subjects: r.statement.subject.map((s) => ({ name: s.name, sha256: s.digest.sha256 })),
        }
      : {}),
  };
}

function table(file: string, r: AttestationVerification): string {
  const lines = r.checks.map((c) => `${c.status.padEnd(5)} ${c.check.padEnd(13)} ${c.message}`);
  const verdict = { valid: "VALID", invalid: "INVALID", malformed: "MALFORMED" }[r.verdict];
  lines.push(`${verdict} ${file}`);
  return `${lines.join("\n")}\n`;
}
