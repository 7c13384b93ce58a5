import { readFile } from "node:fs/promises";
import { basename } from "node:path";
import { attest } from "../../evidence/attest.js";
import { envelopeFileText } from "../../evidence/dsse-envelope.js";
import { writeKeyPair } from "../../evidence/key-files.js";
import { type KeyAlgorithm, keyId, readPrivateKeyFile, readPublicKeyFile } from "../../evidence/keys.js";
import { type Subject, subjectFromBytes } from "../../evidence/statement.js";
import { type AttestationVerification, verifyAttestation } from "../../evidence/verify-attestation.js";
import { writeFileAtomic } from "../../lib/atomic-write.js";
import { AssayError, EXIT } from "../../lib/errors.js";
import { refuseOverlappingOutputs } from "../../lib/output-paths.js";
import { printJson } from "../io.js";
import { readJsonInput } from "../json-input.js";

export interface KeygenCli {
  out: string;
  alg: KeyAlgorithm;
  force?: boolean;
}

export interface AttestCli {
  subject: string[];
  predicateType: string;
  predicate: string;
  key: string;
  out: string;
}

export interface VerifyCli {
  key: string;
  subject?: string[];
  anyKeyid?: boolean;
  json?: boolean;
}

const PREDICATE_TYPE = /^[A-Za-z][A-Za-z0-9+.-]*:\S+$/;

export async function keygen(opts: KeygenCli): Promise<number> {
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

export async function attestCmd(opts: AttestCli): Promise<number> {
  refuseOverlappingOutputs(
    [{ path: opts.out, option: "--out" }],
    [
      { path: opts.key, option: "--key" },
      { path: opts.predicate, option: "--predicate" },
      ...opts.subject.map((path) => ({ path, option: "--subject" })),
    ],
  );
  if (!PREDICATE_TYPE.test(opts.predicateType))
    throw new AssayError("usage", `--predicate-type \`${opts.predicateType}\` is not a URI`);
  const predicate = await readJsonInput(opts.predicate, "predicate", { strict: true });
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
  await writeFileAtomic(opts.out, envelopeFileText(envelope));
  process.stdout.write(
    `wrote ${opts.out}: ${subjects.length} subject(s), predicateType ${opts.predicateType}, keyid ${keyId(privateKey)}\n`,
  );
  return EXIT.ok;
}

export async function verifyAttestationCmd(file: string, opts: VerifyCli): Promise<number> {
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
