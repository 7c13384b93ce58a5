import type { KeyObject } from "node:crypto";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { decodeBase64Strict } from "../evidence/base64.js";
import { type DsseEnvelope, serializeEnvelope } from "../evidence/dsse.js";
import { isLowS } from "../evidence/ecdsa-low-s.js";
import { type KeyAlgorithm, keyAlgorithm, keyId } from "../evidence/keys.js";
import { type Subject, subjectFromBytes } from "../evidence/statement.js";
import { verifyAttestation } from "../evidence/verify-attestation.js";
import { canonicalJson, sha256Hex } from "../lib/canonical-json.js";
import { AssayError } from "../lib/errors.js";
import type { SoakReport } from "../sim/soak/report.js";
import { bundleDigest } from "../sim/target/digest.js";
import { type Bundle, bundleFromFiles } from "../sim/target/load.js";
import { DEFAULT_BUNDLE_LIMITS } from "../sim/target/paths.js";
import { readBundleDir } from "../sim/target/read-dir.js";
import {
  buildKitManifest,
  KIT,
  type KitItem,
  type KitItemKind,
  kindOf,
  manifestProblem,
  SOAK_RESULT_V1,
  soakResultPredicate,
  soakResultProblem,
} from "./manifest.js";
import { provenanceProblem, SLSA_PROVENANCE_V1, type SoakProvenance } from "./provenance.js";
import { readSoakReportBytes } from "./write-kit.js";

/** Why a row failed; stable, for tests and `--json` consumers. */
export type KitVerifyCode =
  | "missing"
  | "unexpected"
  | "digest_mismatch"
  | "not_attested"
  | "manifest_invalid"
  | "manifest_mismatch"
  | "envelope_invalid"
  | "predicate_invalid"
  | "predicate_mismatch"
  | "bundle_invalid"
  | "bundle_digest_mismatch"
  | "report_invalid";

export interface KitRow {
  /** A kit path; `target/` is the bundle as a whole. */
  item: string;
  kind: KitItemKind | "manifest" | "bundle";
  status: "ok" | "fail";
  code?: KitVerifyCode;
  detail: string;
}

export interface KitVerification {
  verdict: "valid" | "invalid";
  keyid: string;
  rows: KitRow[];
}

/**
 * Verify an audit kit directory with a public key: every envelope's signature and statement,
 * every file's sha256 and size against the manifest and against what the signed statements say,
 * the bundle digest, and the manifest itself recomputed from the kit's files. Throws (exit 2)
 * only when the kit cannot be read at all; everything else is a row.
 */
export async function verifyAuditKit(dir: string, publicKey: KeyObject): Promise<KitVerification> {
  const files = await readKit(dir);
  const manifestBytes = files.get(KIT.manifest);
  if (manifestBytes === undefined)
    throw new AssayError("input_unreadable", `not an audit kit: no ${KIT.manifest}`, { where: dir });

  const rows: KitRow[] = [];
  const reportBytes = files.get(KIT.report);
  let report: SoakReport | undefined;
  let reportProblem = reportBytes === undefined ? "missing" : undefined;
  if (reportBytes !== undefined) {
    try {
      report = readSoakReportBytes(reportBytes, KIT.report);
    } catch (err) {
      reportProblem = (err as Error).message;
    }
  }
  const subjects: Subject[] = reportBytes ? [subjectFromBytes(KIT.report, reportBytes)] : [];

  const prov = checkEnvelope(files, KIT.provenance, SLSA_PROVENANCE_V1, publicKey, subjects, (p) =>
    provenanceProblem(p),
  );
  const result = checkEnvelope(files, KIT.soakResult, SOAK_RESULT_V1, publicKey, subjects, (p) => {
    const problem = soakResultProblem(p);
    if (problem !== undefined) return problem;
    if (report === undefined) return undefined;
    return canonicalJson(p) === canonicalJson(soakResultPredicate(report))
      ? undefined
      : "the predicate is not the report's summary and verdict";
  });
  const provenance = prov.verified as SoakProvenance | undefined;
  const signed = signedDigests(provenance);

  // The bundle, from the kit's own copy of it.
  const targetFiles = new Map<string, Buffer>();
  const prefix = `${KIT.target}/`;
  for (const [path, data] of files)
    if (path.startsWith(prefix)) targetFiles.set(path.slice(prefix.length), data);
  let bundle: Bundle | undefined;
  let bundleProblem: string | undefined;
  try {
    bundle = bundleFromFiles(targetFiles, { root: join(dir, KIT.target), kind: "directory" });
  } catch (err) {
    bundleProblem = (err as Error).message;
  }
  const digest = bundleDigest(targetFiles);
  rows.push(bundleRow(digest, bundle, bundleProblem, report, signed.bundle));

  // manifest.json: schema, then byte-equal to the manifest recomputed from the kit's files.
  let manifestValue: unknown;
  let manifestRow: KitRow;
  try {
    manifestValue = JSON.parse(Buffer.from(manifestBytes).toString("utf8"));
    const problem = manifestProblem(manifestValue);
    manifestRow = problem
      ? fail(KIT.manifest, "manifest", "manifest_invalid", `not an audit kit manifest: ${problem}`)
      : recomputeManifest(files, manifestBytes, bundle, report, prov.unverified);
  } catch (err) {
    manifestValue = undefined;
    manifestRow = fail(KIT.manifest, "manifest", "manifest_invalid", `not JSON: ${(err as Error).message}`);
  }
  rows.push(manifestRow);

  const listed = new Map<string, KitItem>();
  if (manifestRow.code !== "manifest_invalid")
    for (const item of (manifestValue as { items: KitItem[] }).items) listed.set(item.path, item);
  const packPaths = new Set([...signed.packs.keys()].map((p) => `${prefix}${p}`));
  // The manifest is not signed: it is only recomputed from the files there are. So the files every
  // kit holds are looked for whatever it lists, and nothing else is taken for part of a kit.
  const paths = new Set([...files.keys(), ...listed.keys(), KIT.report, KIT.provenance, KIT.soakResult]);
  paths.delete(KIT.manifest);
  for (const path of paths) {
    const data = files.get(path);
    const item = listed.get(path);
    const kind = item?.kind ?? kindOf(path, packPaths);
    if (!partOfKit(path)) {
      const where = data === undefined ? "listed in the manifest" : "in the kit";
      rows.push(
        fail(
          path,
          kind,
          "unexpected",
          `${where}, but an audit kit holds only its report, its two statements and target/`,
        ),
      );
      continue;
    }
    if (data === undefined) {
      rows.push(
        fail(
          path,
          kind,
          "missing",
          item ? "listed in the manifest but not in the kit" : "every audit kit holds it; not in the kit",
        ),
      );
      continue;
    }
    const sha = sha256Hex(data);
    if (item === undefined) {
      rows.push(fail(path, kind, "unexpected", "in the kit but not listed in the manifest"));
      continue;
    }
    if (item.sha256 !== sha || item.bytes !== data.length) {
      rows.push(
        fail(
          path,
          kind,
          "digest_mismatch",
          `sha256 ${short(sha)} (${data.length} bytes) is not the manifest's ${short(item.sha256)} (${item.bytes} bytes)`,
        ),
      );
      continue;
    }
    rows.push(itemRow(path, kind, sha, { prov, result, signed, report, reportProblem }));
  }
  rows.sort((a, b) => rank(a) - rank(b) || (a.item < b.item ? -1 : a.item > b.item ? 1 : 0));
  return {
    verdict: rows.every((r) => r.status === "ok") ? "valid" : "invalid",
    keyid: prov.keyid,
    rows,
  };
}

interface EnvelopeCheck {
  keyid: string;
  /** The predicate, once the signature, statement, subject and predicate all checked out. */
  verified?: Record<string, unknown>;
  /** The predicate as decoded, verified or not (to recompute the manifest's producer). */
  unverified?: Record<string, unknown>;
  problem?: { code: KitVerifyCode; detail: string };
  ok?: string;
}

function checkEnvelope(
  files: ReadonlyMap<string, Uint8Array>,
  path: string,
  predicateType: string,
  publicKey: KeyObject,
  subjects: readonly Subject[],
  predicateCheck: (p: Record<string, unknown>) => string | undefined,
): EnvelopeCheck {
  const bytes = files.get(path);
  const keyid = keyId(publicKey);
  if (bytes === undefined) return { keyid, problem: { code: "missing", detail: "not in the kit" } };
  let value: unknown;
  const text = Buffer.from(bytes).toString("utf8");
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { keyid, problem: { code: "envelope_invalid", detail: `not JSON: ${(err as Error).message}` } };
  }
  // The kit's envelopes are written one way (one signature, canonical JSON): any other bytes, even
  // ones whose signature checks out, are not the envelope that was written.
  if (!asWritten(value, text, keyAlgorithm(publicKey)))
    return {
      keyid,
      unverified: decodePredicate(value),
      problem: {
        code: "envelope_invalid",
        detail:
          "not the envelope as written: one signature `{keyid, sig}` (ECDSA in its low-S form) and the members `payload`, `payloadType`, `signatures`, as canonical JSON",
      },
    };
  const unverified = decodePredicate(value);
  const v = verifyAttestation(value, { publicKey, subjects });
  const failed = v.checks.find((c) => c.status === "fail");
  if (v.verdict !== "valid" || v.statement === undefined)
    return {
      keyid,
      unverified,
      problem: { code: "envelope_invalid", detail: `${failed?.code ?? "invalid"}: ${failed?.message ?? ""}` },
    };
  if (v.statement.predicateType !== predicateType)
    return {
      keyid,
      unverified,
      problem: {
        code: "predicate_invalid",
        detail: `predicateType ${v.statement.predicateType}, expected ${predicateType}`,
      },
    };
  const predicate = (v.statement.predicate ?? {}) as Record<string, unknown>;
  const problem = predicateCheck(predicate);
  if (problem !== undefined)
    return { keyid, unverified, problem: { code: "predicate_mismatch", detail: problem } };
  return {
    keyid,
    unverified,
    verified: predicate,
    ok: `signature ${keyid.slice(0, 19)}…, ${predicateType}, subject ${KIT.report}`,
  };
}

/**
 * Whether `value` (read from `text`) is an envelope exactly as the kit writer makes one: with an
 * ECDSA key, also the signature in its low-S form (the high form is a twin anyone can make).
 */
function asWritten(value: unknown, text: string, algorithm: KeyAlgorithm | undefined): boolean {
  if (!hasOnlyKeys(value, ["payload", "payloadType", "signatures"])) return false;
  const sigs = (value as { signatures: unknown }).signatures;
  if (!Array.isArray(sigs) || sigs.length !== 1 || !hasOnlyKeys(sigs[0], ["keyid", "sig"])) return false;
  if (algorithm === "ecdsa-p256") {
    const raw = decodeBase64Strict(String((sigs[0] as { sig: unknown }).sig));
    if (raw === undefined || !isLowS(raw)) return false;
  }
  try {
    return serializeEnvelope(value as DsseEnvelope) === text;
  } catch {
    return false;
  }
}

function hasOnlyKeys(v: unknown, keys: readonly string[]): boolean {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const own = Object.keys(v);
  return own.length === keys.length && keys.every((k) => Object.hasOwn(v, k));
}

/** The files an audit kit holds besides its manifest: the report, the two statements, target/. */
function partOfKit(path: string): boolean {
  return (
    path === KIT.report ||
    path === KIT.provenance ||
    path === KIT.soakResult ||
    path.startsWith(`${KIT.target}/`)
  );
}

function decodePredicate(value: unknown): Record<string, unknown> | undefined {
  try {
    const payload = decodeBase64Strict((value as { payload: string }).payload);
    if (payload === undefined) return undefined;
    return (JSON.parse(payload.toString("utf8")) as { predicate?: Record<string, unknown> }).predicate;
  } catch {
    return undefined;
  }
}

/** What the verified provenance says: the bundle's sha256 and each pack's, by bundle path. */
function signedDigests(p: SoakProvenance | undefined): { bundle?: string; packs: Map<string, string> } {
  const packs = new Map<string, string>();
  if (p === undefined) return { packs };
  const [target, ...rest] = p.buildDefinition.resolvedDependencies;
  for (const dep of rest) packs.set(dep.name, dep.digest.sha256);
  return { ...(target ? { bundle: `sha256:${target.digest.sha256}` } : {}), packs };
}

function bundleRow(
  digest: string,
  bundle: Bundle | undefined,
  problem: string | undefined,
  report: SoakReport | undefined,
  signedBundle: string | undefined,
): KitRow {
  const item = `${KIT.target}/`;
  if (bundle === undefined)
    return fail(item, "bundle", "bundle_invalid", `the bundle does not load: ${problem}`);
  if (signedBundle === undefined)
    return fail(item, "bundle", "not_attested", "no verified provenance names the bundle's digest");
  if (digest !== signedBundle)
    return fail(
      item,
      "bundle",
      "bundle_digest_mismatch",
      `bundle digest ${short(digest)} is not the provenance's ${short(signedBundle)}`,
    );
  if (report !== undefined && report.target.bundle_digest !== digest)
    return fail(item, "bundle", "bundle_digest_mismatch", "the report's target.bundle_digest differs");
  return { item, kind: "bundle", status: "ok", detail: `bundle digest ${short(digest)} = provenance` };
}

function recomputeManifest(
  files: ReadonlyMap<string, Uint8Array>,
  bytes: Uint8Array,
  bundle: Bundle | undefined,
  report: SoakReport | undefined,
  provenance: Record<string, unknown> | undefined,
): KitRow {
  const version = (provenance as SoakProvenance | undefined)?.runDetails?.builder?.version?.assay;
  const missing = [
    bundle === undefined ? "the bundle does not load" : "",
    report === undefined ? "the report is unreadable" : "",
    version === undefined ? "the provenance is unreadable" : "",
  ].filter((m) => m !== "");
  if (bundle === undefined || report === undefined || version === undefined)
    return fail(KIT.manifest, "manifest", "manifest_mismatch", `cannot recompute: ${missing.join(", ")}`);
  const expected = canonicalJson(buildKitManifest({ files, bundle, report, producerVersion: version }));
  if (Buffer.from(bytes).toString("utf8") !== expected)
    return fail(
      KIT.manifest,
      "manifest",
      "manifest_mismatch",
      "differs from the manifest recomputed from the kit's files",
    );
  return {
    item: KIT.manifest,
    kind: "manifest",
    status: "ok",
    detail: "canonical JSON, recomputed from the kit: identical",
  };
}

function itemRow(
  path: string,
  kind: KitItemKind,
  sha: string,
  ctx: {
    prov: EnvelopeCheck;
    result: EnvelopeCheck;
    signed: { packs: Map<string, string> };
    report: SoakReport | undefined;
    reportProblem: string | undefined;
  },
): KitRow {
  if (path === KIT.provenance || path === KIT.soakResult) {
    const c = path === KIT.provenance ? ctx.prov : ctx.result;
    return c.problem
      ? fail(path, kind, c.problem.code, c.problem.detail)
      : { item: path, kind, status: "ok", detail: c.ok ?? "" };
  }
  if (path === KIT.report) {
    if (ctx.reportProblem !== undefined) return fail(path, kind, "report_invalid", ctx.reportProblem);
    if (ctx.prov.verified === undefined)
      return fail(path, kind, "not_attested", "no verified statement names this report");
    return { item: path, kind, status: "ok", detail: `sha256 ${short(sha)} = manifest = signed subject` };
  }
  if (kind === "pack") {
    const signed = ctx.signed.packs.get(path.slice(KIT.target.length + 1));
    if (signed === undefined)
      return fail(path, kind, "not_attested", "no verified provenance names this pack");
    if (signed !== sha)
      return fail(
        path,
        kind,
        "digest_mismatch",
        `sha256 ${short(sha)} is not the provenance's ${short(signed)}`,
      );
    return { item: path, kind, status: "ok", detail: `sha256 ${short(sha)} = manifest = provenance` };
  }
  return { item: path, kind, status: "ok", detail: `sha256 ${short(sha)} = manifest` };
}

async function readKit(dir: string): Promise<Map<string, Buffer>> {
  let isDir = false;
  try {
    isDir = (await stat(dir)).isDirectory();
  } catch (err) {
    throw new AssayError(
      "input_unreadable",
      `cannot read the kit: ${(err as NodeJS.ErrnoException).code ?? err}`,
      {
        where: dir,
        cause: err,
      },
    );
  }
  if (!isDir)
    throw new AssayError("input_unreadable", "not a directory (an audit kit is one)", { where: dir });
  return readBundleDir(dir, DEFAULT_BUNDLE_LIMITS);
}

function fail(item: string, kind: KitRow["kind"], code: KitVerifyCode, detail: string): KitRow {
  return { item, kind, status: "fail", code, detail };
}

function rank(r: KitRow): number {
  return r.kind === "manifest"
    ? 0
    : r.kind === "attestation"
      ? 1
      : r.kind === "report"
        ? 2
        : r.kind === "bundle"
          ? 3
          : 4;
}

function short(hex: string): string {
  const h = hex.startsWith("sha256:") ? hex.slice(7) : hex;
  return h.slice(0, 12);
}
