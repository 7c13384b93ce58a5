import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  AssayError,
  type AssayErrorCode,
  EXIT,
  type ExitCode,
  exitCodeFor,
  formatDiagnostic,
} from "../../src/lib/errors.js";

// The pinned exit-code table. A change here is a deliberate change of the CLI contract
// (CHANGELOG entry); the type makes a new code fail to compile until it is pinned.
const EXIT_CODES: Record<AssayErrorCode, ExitCode> = {
  pack_unreadable: 2,
  pack_too_large: 2,
  pack_syntax: 2,
  pack_schema: 2,
  pack_duplicate_rule: 2,
  pack_unknown_predicate: 2,
  pack_invalid_cidr: 2,
  pack_invalid_cel: 2,
  pack_unsafe_regex: 2,
  pack_invalid_schema: 2,
  pack_invalid_pattern: 2,
  policy_empty: 2,
  bundle_unreadable: 2,
  bundle_too_large: 2,
  bundle_unsafe_entry: 2,
  bundle_missing_file: 2,
  bundle_syntax: 2,
  bundle_schema: 2,
  bundle_duplicate_id: 2,
  bundle_bad_probability: 2,
  bundle_unknown_rule: 2,
  bundle_invalid_cel: 2,
  input_unreadable: 2,
  input_invalid: 2,
  output_unwritable: 2,
  usage: 2,
  json_syntax: 2,
  json_duplicate_key: 2,
  json_lone_surrogate: 2,
  json_unsafe_number: 2,
  json_too_deep: 2,
  runner_layer_invalid: 2,
  runner_contract_invalid: 2,
  runner_kernel_unavailable: 2,
  runner_capture_failed: 2,
  adapt_weights_invalid: 2,
  adapt_plan_mismatch: 2,
  serve_config_invalid: 2,
  serve_tls_invalid: 2,
  serve_start_failed: 2,
  matrix_registry_invalid: 2,
  matrix_artifact_invalid: 2,
  matrix_disclosures_invalid: 2,
  internal: 2,
};

describe("errors", () => {
  test("exit codes: 0 pass, 1 finding, 2 failure", () => {
    assert.deepEqual(EXIT, { ok: 0, finding: 1, failure: 2 });
  });

  for (const [code, exit] of Object.entries(EXIT_CODES) as [AssayErrorCode, ExitCode][]) {
    test(`\`${code}\` exits ${exit}`, () => {
      assert.equal(exitCodeFor(code), exit);
    });
  }

  test("an unknown code has no exit code (the table is closed)", () => {
    assert.equal(exitCodeFor("no_such_code" as AssayErrorCode), undefined);
  });

  test("AssayError: code, message, where, cause, one diagnostic by default", () => {
    const cause = new Error("inner");
    const err = new AssayError("pack_syntax", "bad yaml", { where: "p.yaml:3:1", cause });
    assert.ok(err instanceof Error);
    assert.equal(err.name, "AssayError");
    assert.equal(err.code, "pack_syntax");
    assert.equal(err.message, "bad yaml");
    assert.equal(err.where, "p.yaml:3:1");
    assert.equal(err.cause, cause);
    assert.deepEqual(err.diagnostics, [{ code: "pack_syntax", message: "bad yaml", where: "p.yaml:3:1" }]);

    const bare = new AssayError("usage", "no pack given");
    assert.equal(bare.where, undefined);
    assert.equal(bare.cause, undefined);
    assert.deepEqual(bare.diagnostics, [{ code: "usage", message: "no pack given" }]);
  });

  test("fromDiagnostics: the first diagnostic names the error, all are kept", () => {
    const diagnostics = [
      { code: "pack_invalid_cidr" as const, message: "a", where: "p.yaml:1:1" },
      { code: "pack_invalid_cel" as const, message: "b" },
    ];
    const err = AssayError.fromDiagnostics(diagnostics);
    assert.equal(err.code, "pack_invalid_cidr");
    assert.equal(err.message, "a");
    assert.equal(err.where, "p.yaml:1:1");
    assert.deepEqual(err.diagnostics, diagnostics);
    assert.equal(AssayError.fromDiagnostics([]).code, "internal");
  });

  test("formatDiagnostic: `where: message`", () => {
    assert.equal(formatDiagnostic({ code: "usage", message: "m", where: "f:1:2" }), "f:1:2: m");
    assert.equal(formatDiagnostic({ code: "usage", message: "m" }), "m");
  });
});
