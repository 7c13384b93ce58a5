import { AssayError } from "../../lib/errors.js";
import type { ArtifactKind } from "../../matrix/artifact.js";
import { buildMatrix } from "../../matrix/build-matrix.js";
import type { ReadinessLevel } from "../../matrix/matrix-doc.js";
import { recordCommand } from "../../matrix/record.js";
import { toUtc } from "../../matrix/sources/timestamp.js";
import { parseWindow } from "../../matrix/window.js";
import { assertOutsideEvidence, matrixFiles, writeMatrix } from "../../matrix/write-matrix.js";

export interface MatrixCli {
  claims?: string;
  evidence?: string[];
  disclosures?: string;
  window: string;
  now?: string;
  require?: "design-partner" | "ga" | "public-production";
  out?: string;
  json?: boolean;
}

export interface RecordCli {
  kind: ArtifactKind;
  out: string;
}

const RFC3339_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?Z$/;

export async function matrixBuild(opts: MatrixCli): Promise<number> {
  if (opts.claims === undefined) throw new AssayError("usage", "--claims <file> is required");
  if (opts.evidence === undefined) throw new AssayError("usage", "--evidence <dir...> is required");
  if (opts.out === undefined) throw new AssayError("usage", "--out <dir> is required");
  if (opts.now !== undefined && !(RFC3339_UTC.test(opts.now) && toUtc(opts.now) !== undefined)) {
    throw new AssayError(
      "usage",
      `--now \`${opts.now}\` is not an RFC 3339 UTC time like \`2026-12-06T12:00:00Z\``,
    );
  }
  await assertOutsideEvidence(opts.out, opts.evidence);
  const require = opts.require?.replace(/-/g, "_") as ReadinessLevel | undefined;
  const doc = await buildMatrix({
    claims: opts.claims,
    evidence: opts.evidence,
    ...(opts.disclosures === undefined ? {} : { disclosures: opts.disclosures }),
    window: { text: opts.window, seconds: parseWindow(opts.window) },
    ...(opts.now === undefined ? {} : { now: opts.now }),
    ...(require === undefined ? {} : { require }),
  });
  await writeMatrix(opts.out, opts.evidence, doc);
  const files = matrixFiles(doc);
  process.stdout.write(opts.json === true ? files["matrix.json"] : files["matrix.md"]);
  return doc.required === null || doc.required.met ? 0 : 1;
}

export async function matrixRecord(command: string[], opts: RecordCli): Promise<number> {
  const { exitCode, record } = await recordCommand({ kind: opts.kind, command, out: opts.out });
  process.stderr.write(
    `recorded ${opts.kind} output of \`${command.join(" ")}\` (exit ${exitCode}) at ${record.recorded_at_utc} in ${opts.out}\n`,
  );
  return 0;
}
