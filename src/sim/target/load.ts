import { stat } from "node:fs/promises";
import { join } from "node:path";
import { AssayError, type Diagnostic } from "../../lib/errors.js";
import { compilePolicy } from "../../policy/compile.js";
import type { CompiledPolicy } from "../../policy/ir.js";
import { pointerToPath } from "../../policy/json-pointer.js";
import { type LoadedPack, parsePack } from "../../policy/load-pack.js";
import { checkCanaryRules, checkIds, checkScripts, compileExpectations } from "./check.js";
import { bundleDigest } from "./digest.js";
import type { Expectation } from "./expect.js";
import { normalizeTarget } from "./normalize.js";
import { type ParsedTarget, parseTarget } from "./parse.js";
import { type BundleLimits, bundlePath, DEFAULT_BUNDLE_LIMITS, TARGET_FILE } from "./paths.js";
import { readBundleDir } from "./read-dir.js";
import { readTarball } from "./read-tarball.js";
import { parseTrace, type RecordedTrace, traceOf } from "./recorded-trace.js";
import type { Target } from "./types.js";

/** A loaded, fully checked target bundle. Nothing in it refers to files outside the bundle. */
export interface Bundle {
  /** The bundle as it was named: a directory or a .tar.gz path. */
  readonly root: string;
  readonly kind: "directory" | "tarball";
  readonly target: Target;
  /** Every regular file, by bundle-relative `/`-separated path. */
  readonly files: ReadonlyMap<string, Buffer>;
  /** `sha256:<hex>` over the bundle's content (see digest.ts). */
  readonly digest: string;
  /** The target's packs, parsed from the bundle's bytes, in `target.packs` order. */
  readonly packs: readonly LoadedPack[];
  /** The packs compiled into one policy. */
  readonly policy: CompiledPolicy;
  /** Every scenario's compiled expectations, by scenario id. */
  readonly expectations: ReadonlyMap<string, readonly Expectation[]>;
  /** Replay traces by bundle path, parsed once at load (empty unless the driver is replay). */
  readonly traces: ReadonlyMap<string, RecordedTrace>;
  /** Where a bundle file is, for messages: a real path for a directory, `<tarball>!/<path>` for a tarball. */
  where(path: string): string;
}

export interface LoadBundleOptions {
  limits?: Partial<BundleLimits>;
}

/**
 * Load a target bundle (a directory, or a .tar.gz of one): read every file, compute the digest,
 * then parse and check `assay-target.yaml` and everything it names. Throws an AssayError listing
 * every problem found, each with its `file:line:col`.
 */
export async function loadBundle(pathOrTarGz: string, options: LoadBundleOptions = {}): Promise<Bundle> {
  const limits = { ...DEFAULT_BUNDLE_LIMITS, ...options.limits };
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(pathOrTarGz)).isDirectory();
  } catch (err) {
    throw new AssayError(
      "bundle_unreadable",
      `cannot read bundle: ${(err as NodeJS.ErrnoException).code ?? err}`,
      {
        where: pathOrTarGz,
        cause: err,
      },
    );
  }
  const files = isDirectory
    ? await readBundleDir(pathOrTarGz, limits)
    : await readTarball(pathOrTarGz, limits);
  return bundleFromFiles(files, { root: pathOrTarGz, kind: isDirectory ? "directory" : "tarball" });
}

/** Check a bundle already held in memory (what loadBundle does once the files are read). */
export function bundleFromFiles(
  files: ReadonlyMap<string, Buffer>,
  origin: { root: string; kind: "directory" | "tarball" },
): Bundle {
  const where = (path: string) =>
    origin.kind === "directory" ? join(origin.root, path) : `${origin.root}!/${path}`;
  const targetBytes = files.get(TARGET_FILE);
  if (!targetBytes) {
    throw new AssayError("bundle_missing_file", `the bundle has no \`${TARGET_FILE}\` at its root`, {
      where: origin.root,
    });
  }
  const parsed = parseTarget(decodeUtf8(targetBytes, where(TARGET_FILE)), where(TARGET_FILE));
  const diagnostics: Diagnostic[] = [];
  const paths = resolveReferences(parsed, files, diagnostics);
  checkIds(parsed, diagnostics);
  checkScripts(parsed, diagnostics);
  const expectations = compileExpectations(parsed, diagnostics);
  const packs = loadPacks(parsed, paths, files, where, diagnostics);
  const policy = packs && compile(packs, diagnostics);
  checkCanaryRules(parsed, policy, diagnostics);
  const traces = parseTraces(parsed, paths, files, where, diagnostics);
  checkScenarioTraces(parsed, paths, diagnostics);
  checkWorkspace(parsed, files, paths, diagnostics);
  if (diagnostics.length > 0 || !packs || !policy) throw AssayError.fromDiagnostics(diagnostics);

  return Object.freeze({
    root: origin.root,
    kind: origin.kind,
    target: normalizeTarget(parsed.doc, (p) => paths.get(p) ?? p),
    files,
    digest: bundleDigest(files),
    packs: Object.freeze(packs),
    policy,
    expectations,
    traces,
    where,
  });
}

/**
 * Check every path the target names (packs, replay traces): bundle form, and present in the
 * bundle. Returns each as written → its bundle path, for those that resolved.
 */
function resolveReferences(
  target: ParsedTarget,
  files: ReadonlyMap<string, Buffer>,
  out: Diagnostic[],
): Map<string, string> {
  const resolved = new Map<string, string>();
  const refs: [string, string][] = target.doc.packs.map((p, i) => [p, `/packs/${i}`]);
  if (target.doc.driver.kind === "replay") {
    target.doc.driver.replay.traces.forEach((t, i) => {
      refs.push([t, `/driver/replay/traces/${i}`]);
    });
  }
  const seen = new Map<string, string>();
  for (const [raw, pointer] of refs) {
    const label = pointerToPath(pointer);
    const checked = bundlePath(raw);
    if (!checked.ok || checked.path === "") {
      const reason = checked.ok ? "it names the bundle root" : checked.reason;
      out.push({
        code: "bundle_schema",
        message: `${label}: \`${raw}\` cannot name a file in the bundle: ${reason}`,
        where: target.locate(pointer),
      });
      continue;
    }
    const first = seen.get(checked.path);
    if (first !== undefined) {
      out.push({
        code: "bundle_duplicate_id",
        message: `${label}: \`${raw}\` is already listed as ${first}`,
        where: target.locate(pointer),
      });
      continue;
    }
    seen.set(checked.path, label);
    if (!files.has(checked.path)) {
      out.push({
        code: "bundle_missing_file",
        message: `${label}: \`${checked.path}\` is not in the bundle`,
        where: target.locate(pointer),
      });
      continue;
    }
    resolved.set(raw, checked.path);
  }
  return resolved;
}

/** Parse every pack from the bundle's bytes; undefined when any could not be. */
function loadPacks(
  target: ParsedTarget,
  paths: ReadonlyMap<string, string>,
  files: ReadonlyMap<string, Buffer>,
  where: (path: string) => string,
  out: Diagnostic[],
): LoadedPack[] | undefined {
  const packs: LoadedPack[] = [];
  let complete = true;
  for (const raw of target.doc.packs) {
    const path = paths.get(raw);
    const bytes = path === undefined ? undefined : files.get(path);
    if (path === undefined || bytes === undefined) {
      complete = false;
      continue;
    }
    const pack = collect(out, () => parsePack(decodeUtf8(bytes, where(path)), where(path)));
    if (pack) packs.push(pack);
    else complete = false;
  }
  return complete ? packs : undefined;
}

function compile(packs: readonly LoadedPack[], out: Diagnostic[]): CompiledPolicy | undefined {
  return collect(out, () => compilePolicy(packs));
}

/**
 * Parse every replay trace once, at load: NDJSON of calls or of gate decision records (see
 * recorded-trace.ts). A tools/call a gate refused unread, or a frame it rejected, is kept as a
 * refusal: it fails a replayed trial as it failed the recorded one.
 */
function parseTraces(
  target: ParsedTarget,
  paths: ReadonlyMap<string, string>,
  files: ReadonlyMap<string, Buffer>,
  where: (path: string) => string,
  out: Diagnostic[],
): Map<string, RecordedTrace> {
  const traces = new Map<string, RecordedTrace>();
  if (target.doc.driver.kind !== "replay") return traces;
  for (const raw of target.doc.driver.replay.traces) {
    const path = paths.get(raw);
    const bytes = path === undefined ? undefined : files.get(path);
    if (path === undefined || bytes === undefined) continue;
    const parsed = collect(out, () => parseTrace(decodeUtf8(bytes, where(path)), where(path)));
    if (parsed) {
      const { calls, refusals } = traceOf(parsed);
      traces.set(path, { calls, refusals: refusals ?? [] });
    }
  }
  return traces;
}

/** A scenario's `trace` names one of the replay driver's traces, and only a replay driver reads it. */
function checkScenarioTraces(target: ParsedTarget, paths: Map<string, string>, out: Diagnostic[]): void {
  const driver = target.doc.driver;
  const listed = new Set(driver.kind === "replay" ? driver.replay.traces.map((t) => bundlePath(t)) : []);
  const listedPaths = new Set([...listed].flatMap((p) => (p.ok ? [p.path] : [])));
  target.doc.scenarios.forEach((scenario, i) => {
    if (scenario.trace === undefined) return;
    const where = target.locate(`/scenarios/${i}/trace`);
    if (driver.kind !== "replay") {
      out.push({
        code: "bundle_schema",
        message: `scenarios[${i}].trace: only the replay driver replays traces (this bundle's driver is \`${driver.kind}\`)`,
        where,
      });
      return;
    }
    const checked = bundlePath(scenario.trace);
    if (!checked.ok || !listedPaths.has(checked.path)) {
      out.push({
        code: "bundle_schema",
        message: `scenarios[${i}].trace: \`${scenario.trace}\` is not one of driver.replay.traces`,
        where,
      });
      return;
    }
    paths.set(scenario.trace, checked.path);
  });
}

/** The command driver's `workspace` is a directory of the bundle holding at least one file. */
function checkWorkspace(
  target: ParsedTarget,
  files: ReadonlyMap<string, Buffer>,
  paths: Map<string, string>,
  out: Diagnostic[],
): void {
  const driver = target.doc.driver;
  if (driver.kind !== "command" || driver.command.workspace === undefined) return;
  const raw = driver.command.workspace;
  const where = target.locate("/driver/command/workspace");
  const checked = bundlePath(raw);
  if (!checked.ok) {
    out.push({
      code: "bundle_schema",
      message: `driver.command.workspace: \`${raw}\` cannot name a directory in the bundle: ${checked.reason}`,
      where,
    });
    return;
  }
  const prefix = checked.path === "" ? "" : `${checked.path}/`;
  if (![...files.keys()].some((f) => f.startsWith(prefix))) {
    out.push({
      code: "bundle_missing_file",
      message: `driver.command.workspace: \`${checked.path}\` is not a directory with files in the bundle`,
      where,
    });
    return;
  }
  paths.set(raw, checked.path);
}

/** Run `fn`; an AssayError's diagnostics go to `out` and give undefined. */
function collect<T>(out: Diagnostic[], fn: () => T): T | undefined {
  try {
    return fn();
  } catch (err) {
    if (!(err instanceof AssayError)) throw err;
    out.push(...err.diagnostics);
    return undefined;
  }
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

function decodeUtf8(bytes: Uint8Array, where: string): string {
  try {
    return utf8.decode(bytes);
  } catch (err) {
    throw new AssayError("bundle_syntax", "not UTF-8 text", { where, cause: err });
  }
}
