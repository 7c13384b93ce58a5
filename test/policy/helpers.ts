import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { AssayError, type AssayErrorCode } from "../../src/lib/errors.js";
import { compilePolicy } from "../../src/policy/compile.js";
import type { CompiledPolicy } from "../../src/policy/ir.js";
import { type LoadedPack, parsePack } from "../../src/policy/load-pack.js";
import type { PackDoc, RuleDoc, SequenceCheck } from "../../src/policy/pack-types.js";

export const FIXTURES = new URL("../fixtures/policy/", import.meta.url);

/** The text of a fixture under test/fixtures/policy/. */
export function fixtureText(name: string): string {
  return readFileSync(new URL(name, FIXTURES), "utf8");
}

const fixturePolicies = new Map<string, CompiledPolicy>();

/** Packs under test/fixtures/policy/, composed in order into one policy (compiled once per list). */
export function fixturePolicy(files: readonly string[]): CompiledPolicy {
  const key = files.join("+");
  let policy = fixturePolicies.get(key);
  if (!policy) {
    policy = compilePolicy(files.map((f) => parsePack(fixtureText(f), f)));
    fixturePolicies.set(key, policy);
  }
  return policy;
}

/** Parse and compile YAML (or JSON) pack texts into one policy. */
export function policyFromYaml(...texts: string[]): CompiledPolicy {
  return compilePolicy(texts.map((t, i) => parsePack(t, `pack${i}.yaml`)));
}

/** The example pack, test/fixtures/policy/p1.yaml, loaded with its positions. */
export function p1(): LoadedPack {
  return parsePack(fixtureText("p1.yaml"), "p1.yaml");
}

/** A rule with the required fields filled in. */
export function rule(id: string, check: Partial<RuleDoc>): RuleDoc {
  return { id, dimension: "security", severity: "high", ...check };
}

/** A pack document with the given rules. */
export function pack(id: string, rules: RuleDoc[], extra: Partial<PackDoc> = {}): PackDoc {
  return { id, version: "1.0.0", rules, ...extra };
}

/** Run `fn`, which must throw an AssayError with `code`; return it for further checks. */
export function assayError(fn: () => unknown, code: AssayErrorCode): AssayError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof AssayError, `expected an AssayError, got ${String(err)}`);
    assert.equal(err.code, code, `diagnostics: ${JSON.stringify(err.diagnostics)}`);
    return err;
  }
  assert.fail(`expected an AssayError with code ${code}, nothing was thrown`);
}

/** Same as `assayError` for a promise. */
export async function assayErrorAsync(fn: () => Promise<unknown>, code: AssayErrorCode): Promise<AssayError> {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof AssayError, `expected an AssayError, got ${String(err)}`);
    assert.equal(err.code, code, `diagnostics: ${JSON.stringify(err.diagnostics)}`);
    return err;
  }
  assert.fail(`expected an AssayError with code ${code}, nothing was thrown`);
}

/** `file:line:col` split into its parts; fails when `where` has another shape. */
export function position(where: string | undefined, file: string): { line: number; col: number } {
  assert.ok(where !== undefined, "error has no location");
  const m = /^(.*):(\d+):(\d+)$/.exec(where);
  assert.ok(m, `\`${where}\` is not file:line:col`);
  assert.equal(m[1], file);
  return { line: Number(m[2]), col: Number(m[3]) };
}

/** A `before` sequence check: `first` must have run before `next`. */
export function beforeCheck(first: string, next: string): SequenceCheck {
  // biome-ignore lint/suspicious/noThenProperty: `then` is a key of the pack format, never awaited
  return { before: { first, then: next } };
}

/** An `after` sequence check: `next` must follow each `trigger` within `within` calls. */
export function afterCheck(trigger: string, next: string, within: number): SequenceCheck {
  // biome-ignore lint/suspicious/noThenProperty: `then` is a key of the pack format, never awaited
  return { after: { trigger, then: next, within } };
}
