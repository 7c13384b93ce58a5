/** Exit codes every command keeps: 0 pass, 1 a real finding, 2 usage / input / infrastructure failure. */
export const EXIT = { ok: 0, finding: 1, failure: 2 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** Problems with a policy pack: reading, parsing, schema, semantics, compiling. */
export type PolicyLoadCode =
  | "pack_unreadable"
  | "pack_too_large"
  | "pack_syntax"
  | "pack_schema"
  | "pack_duplicate_rule"
  | "pack_unknown_predicate"
  | "pack_invalid_cidr"
  | "pack_invalid_cel"
  | "pack_unsafe_regex"
  | "pack_invalid_schema"
  | "pack_invalid_pattern"
  | "policy_empty";

/**
 * Problems with a target bundle (src/sim/target/load.ts): reading the directory or tarball, its
 * entries, its `assay-target.yaml`, and what that file refers to. Pack problems keep their
 * `pack_*` codes, located in the bundle's pack file.
 */
export type BundleCode =
  | "bundle_unreadable"
  | "bundle_too_large"
  | "bundle_unsafe_entry"
  | "bundle_missing_file"
  | "bundle_syntax"
  | "bundle_schema"
  | "bundle_duplicate_id"
  | "bundle_bad_probability"
  | "bundle_unknown_rule"
  | "bundle_invalid_cel";

/** Problems with the inputs of `policy eval` / `policy test` (not with a decision). */
export type InputCode = "input_unreadable" | "input_invalid" | "output_unwritable" | "usage";

/**
 * JSON that is not I-JSON (RFC 7493), found by the strict parser (src/evidence/strict-json.ts)
 * where a silently different value would change a digest: `assay evidence canonicalize`,
 * `assay evidence bundle`.
 */
export type StrictJsonCode =
  | "json_syntax"
  | "json_duplicate_key"
  | "json_lone_surrogate"
  | "json_unsafe_number"
  | "json_too_deep";

/**
 * Problems of `assay runner` (src/runner): a layer that breaks its input contract (a decision or
 * SDK event log line), an artifact that fails its schema before it is written, a kernel backend
 * that cannot run, a capture that cannot be carried out.
 */
export type RunnerCode =
  | "runner_layer_invalid"
  | "runner_contract_invalid"
  | "runner_kernel_unavailable"
  | "runner_capture_failed";

/**
 * Problems of `assay adapt` and deciding with a plan (src/adapt): a weights file that names a rule
 * the policy lacks or is not `rule_id: weight`, a plan handed a policy or context it was not built for.
 */
export type AdaptCode = "adapt_weights_invalid" | "adapt_plan_mismatch";

/**
 * Problems of `assay serve` (src/serve) that stop it starting or reloading: a config that fails its
 * schema or profile rules, TLS material that cannot be read or used, an address it cannot bind.
 */
export type ServeCode = "serve_config_invalid" | "serve_tls_invalid" | "serve_start_failed";

/**
 * Problems of `assay matrix` (src/matrix): a claim registry that fails its schema or names an
 * unknown kind, a CEL criterion that does not compile, an evidence artifact that cannot be read or
 * is not what its kind says, a disclosures file that fails its schema.
 */
export type MatrixCode = "matrix_registry_invalid" | "matrix_artifact_invalid" | "matrix_disclosures_invalid";

export type AssayErrorCode =
  | PolicyLoadCode
  | MatrixCode
  | ServeCode
  | BundleCode
  | InputCode
  | StrictJsonCode
  | RunnerCode
  | AdaptCode
  | "internal";

const EXIT_BY_CODE: Record<AssayErrorCode, ExitCode> = {
  runner_layer_invalid: EXIT.failure,
  runner_contract_invalid: EXIT.failure,
  runner_kernel_unavailable: EXIT.failure,
  runner_capture_failed: EXIT.failure,
  adapt_weights_invalid: EXIT.failure,
  adapt_plan_mismatch: EXIT.failure,
  serve_config_invalid: EXIT.failure,
  serve_tls_invalid: EXIT.failure,
  serve_start_failed: EXIT.failure,
  matrix_registry_invalid: EXIT.failure,
  matrix_artifact_invalid: EXIT.failure,
  matrix_disclosures_invalid: EXIT.failure,
  pack_unreadable: EXIT.failure,
  pack_too_large: EXIT.failure,
  pack_syntax: EXIT.failure,
  pack_schema: EXIT.failure,
  pack_duplicate_rule: EXIT.failure,
  pack_unknown_predicate: EXIT.failure,
  pack_invalid_cidr: EXIT.failure,
  pack_invalid_cel: EXIT.failure,
  pack_unsafe_regex: EXIT.failure,
  pack_invalid_schema: EXIT.failure,
  pack_invalid_pattern: EXIT.failure,
  policy_empty: EXIT.failure,
  bundle_unreadable: EXIT.failure,
  bundle_too_large: EXIT.failure,
  bundle_unsafe_entry: EXIT.failure,
  bundle_missing_file: EXIT.failure,
  bundle_syntax: EXIT.failure,
  bundle_schema: EXIT.failure,
  bundle_duplicate_id: EXIT.failure,
  bundle_bad_probability: EXIT.failure,
  bundle_unknown_rule: EXIT.failure,
  bundle_invalid_cel: EXIT.failure,
  input_unreadable: EXIT.failure,
  input_invalid: EXIT.failure,
  output_unwritable: EXIT.failure,
  usage: EXIT.failure,
  json_syntax: EXIT.failure,
  json_duplicate_key: EXIT.failure,
  json_lone_surrogate: EXIT.failure,
  json_unsafe_number: EXIT.failure,
  json_too_deep: EXIT.failure,
  internal: EXIT.failure,
};

/** The exit code a command ends with when it fails with `code`. */
export function exitCodeFor(code: AssayErrorCode): ExitCode {
  return EXIT_BY_CODE[code];
}

/** One problem, with where it is: `file:line:col` or a JSON pointer. */
export interface Diagnostic {
  code: AssayErrorCode;
  message: string;
  where?: string;
}

/**
 * The one error type of Assay: a stable `code`, a one-line `message`, an optional location
 * and, when several problems were found at once, every one of them in `diagnostics`.
 */
export class AssayError extends Error {
  readonly code: AssayErrorCode;
  readonly where: string | undefined;
  readonly diagnostics: readonly Diagnostic[];

  constructor(
    code: AssayErrorCode,
    message: string,
    opts: { where?: string; cause?: unknown; diagnostics?: Diagnostic[] } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "AssayError";
    this.code = code;
    this.where = opts.where;
    this.diagnostics = opts.diagnostics ?? [{ code, message, ...(opts.where ? { where: opts.where } : {}) }];
  }

  /** Build one error from several diagnostics; the first one names the error. */
  static fromDiagnostics(diagnostics: Diagnostic[]): AssayError {
    const first = diagnostics[0];
    if (!first) return new AssayError("internal", "no diagnostics");
    return new AssayError(first.code, first.message, {
      ...(first.where ? { where: first.where } : {}),
      diagnostics,
    });
  }
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is escaped
const UNPRINTABLE = /\r\n|[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g;

/**
 * `text` fit for one line of a terminal or a log: control characters (C0, C1) and the line and
 * paragraph separators as `\uXXXX`, so what it quotes from a file or a client can neither forge a
 * line nor drive the terminal; line breaks (LF, CR, CRLF) as `lineBreak` when one is given.
 */
export function printable(text: string, lineBreak?: string): string {
  return text.replace(UNPRINTABLE, (c) =>
    lineBreak !== undefined && (c === "\n" || c === "\r" || c === "\r\n")
      ? lineBreak
      : [...c].map((u) => `\\u${u.charCodeAt(0).toString(16).padStart(4, "0")}`).join(""),
  );
}

/** `where: message`, or just the message. */
export function formatDiagnostic(d: Diagnostic): string {
  return d.where ? `${d.where}: ${d.message}` : d.message;
}
