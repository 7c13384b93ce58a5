import { realpath, stat } from "node:fs/promises";
import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { AssayError } from "../lib/errors.js";
import { PACKAGE } from "../lib/package-info.js";
import { schemaValidator } from "../lib/schema-validator.js";
import type { Artifact, ArtifactKind } from "./artifact.js";
import { evidenceCampaign } from "./campaign.js";
import { type DisclosuresFile, disclosureStatus, loadDisclosures } from "./disclosures.js";
import { judgeClaim } from "./judge-claim.js";
import {
  CLAIM_STATES,
  type ClaimState,
  type InputFile,
  type MatrixDoc,
  type ReadinessLevel,
} from "./matrix-doc.js";
import { readinessLevels } from "./readiness.js";
import { loadRegistry } from "./registry.js";
import { soakRuns } from "./soak-runs.js";
import { readArtifact } from "./sources/read-artifact.js";

export interface MatrixOptions {
  claims: string;
  evidence: string[];
  disclosures?: string;
  window: { text: string; seconds: number };
  /** RFC 3339: the campaign window's end and `generated_at_utc`; default the clock's time, newest artifact anchoring the window. */
  now?: string;
  require?: ReadinessLevel;
  /** Where paths in the reports are relative to (default the working directory). */
  cwd?: string;
  /** The time `generated_at_utc` records when `now` is not given. */
  clock?: () => Date;
}

const validateMatrix = schemaValidator("matrix");

/**
 * Judge a claim registry against evidence directories. Reads only: every artifact a claim names
 * is looked up in the evidence directories (in exactly one of them), read once per kind and
 * path, and checked by its kind's parser; nothing is re-run and nothing is written.
 */
export async function buildMatrix(opts: MatrixOptions): Promise<MatrixDoc> {
  const cwd = opts.cwd ?? process.cwd();
  const show = (p: string) => relative(cwd, resolve(cwd, p)).split(sep).join("/") || ".";
  const registry = await loadRegistry(resolve(cwd, opts.claims), show(opts.claims));
  const disclosures: DisclosuresFile | null =
    opts.disclosures === undefined
      ? null
      : await loadDisclosures(resolve(cwd, opts.disclosures), show(opts.disclosures));
  const dirs: string[] = [];
  const seen = new Set<string>();
  for (const d of opts.evidence) {
    const dir = resolve(cwd, d);
    const s = await stat(dir).catch(() => null);
    if (s === null || !s.isDirectory()) {
      throw new AssayError(
        "input_invalid",
        `evidence directory \`${d}\` does not exist or is not a directory`,
      );
    }
    // The same directory named twice (`ev` and `ev/`, or through a link) is one directory.
    const real = await realpath(dir);
    if (!seen.has(real)) dirs.push(dir);
    seen.add(real);
  }

  const artifacts = new Map<string, Artifact | null>();
  const wanted = registry.groups.flatMap((g) => g.claims.flatMap((c) => c.evidence));
  for (const e of wanted) {
    const key = keyOf(e.kind, e.file);
    if (artifacts.has(key)) continue;
    const found: string[] = [];
    for (const d of dirs) {
      const p = join(d, e.file);
      const rel = relative(d, p);
      if (isAbsolute(e.file) || rel === ".." || rel.startsWith(`..${sep}`)) continue;
      if (await exists(p, show(p))) found.push(p);
    }
    if (found.length > 1) {
      throw new AssayError(
        "input_invalid",
        `\`${e.file}\` is in more than one evidence directory (${found.map(show).join(", ")}): name each artifact once`,
      );
    }
    const path = found[0];
    artifacts.set(key, path === undefined ? null : await readArtifact(e.kind, path, show(path)));
  }
  const find = (e: { kind: ArtifactKind; file: string }) => artifacts.get(keyOf(e.kind, e.file)) ?? null;

  const matrix = registry.groups.flatMap((g) => g.claims.map((c) => judgeClaim(c, find)));
  const read = uniqueByPath([...artifacts.values()].filter((a): a is Artifact => a !== null));
  const campaign = evidenceCampaign(read, opts.window, opts.now ?? null);
  const dp = disclosureStatus(matrix, disclosures);
  const readiness = readinessLevels(matrix, campaign, dp);
  const inputs: InputFile[] = [
    { role: "registry", path: registry.path, sha256: registry.sha256 },
    ...(disclosures
      ? [{ role: "disclosures" as const, path: disclosures.path, sha256: disclosures.sha256 }]
      : []),
    ...[...artifacts.values()]
      .filter((a): a is Artifact => a !== null)
      .sort((x, y) => cmp(x.path, y.path) || cmp(x.kind, y.kind))
      .map((a) => ({
        role: "evidence" as const,
        path: a.path,
        sha256: a.sha256,
        kind: a.kind,
        timestamp: a.timestamp,
        timestamp_source: a.timestamp_source,
      })),
  ];
  const doc: MatrixDoc = {
    schema_version: "assay.matrix.v1",
    assay_version: PACKAGE.version,
    generated_at_utc: opts.now ?? (opts.clock ?? (() => new Date()))().toISOString(),
    title: registry.title,
    groups: registry.groups.map((g) => ({
      id: g.id,
      title: g.title,
      counts: counts(matrix.filter((r) => r.group === g.id)),
    })),
    matrix,
    evidence_campaign: campaign,
    design_partner_disclosures: dp,
    readiness,
    required:
      opts.require === undefined
        ? null
        : { level: opts.require, met: readiness.find((l) => l.level === opts.require)?.met === true },
    soak_runs: soakRuns(read),
    inputs,
  };
  if (!validateMatrix(doc)) {
    const e = validateMatrix.errors?.[0];
    throw new AssayError(
      "internal",
      `the matrix does not match its schema: ${e?.instancePath} ${e?.message}`,
    );
  }
  return doc;
}

/** Whether `p` exists; only its absence is "missing": a file that cannot be looked at is an error. */
async function exists(p: string, display: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return false;
    throw new AssayError("matrix_artifact_invalid", `cannot read: ${code ?? err}`, {
      where: display,
      cause: err,
    });
  }
}

function counts(rows: { state: ClaimState }[]): Record<ClaimState, number> {
  return Object.fromEntries(CLAIM_STATES.map((s) => [s, rows.filter((r) => r.state === s).length])) as Record<
    ClaimState,
    number
  >;
}

function keyOf(kind: string, file: string): string {
  return `${kind}\0${file}`;
}

function uniqueByPath(list: Artifact[]): Artifact[] {
  const seen = new Map<string, Artifact>();
  for (const a of list) if (!seen.has(a.path)) seen.set(a.path, a);
  return [...seen.values()];
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
