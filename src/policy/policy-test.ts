import { dirname, resolve } from "node:path";
import { parse as parseYaml } from "yaml";
import { AssayError } from "../lib/errors.js";
import { readTextFile } from "../lib/read-text.js";
import { schemaValidator } from "../lib/schema-validator.js";
import { checkTrace } from "./check-trace.js";
import { compilePolicy } from "./compile.js";
import { decide } from "./decide.js";
import type { CompiledPolicy } from "./ir.js";
import { loadPack } from "./load-pack.js";

/** One expectation that did not hold: what the case expected and what the policy did. */
export interface Mismatch {
  field: string;
  expected: unknown;
  actual: unknown;
}

export interface CaseResult {
  file: string;
  name: string;
  passed: boolean;
  mismatches: Mismatch[];
}

interface TestCase {
  name: string;
  call?: unknown;
  trace?: unknown[];
  context?: Record<string, unknown>;
  expect: { effect?: string; rule_id?: string | null; reason_code?: string; violations?: string[] };
}
interface TestFile {
  packs: string[];
  context?: Record<string, unknown>;
  cases: TestCase[];
}

const validateTestFile = schemaValidator("policy-test");

/** Run every case of one test file against the packs it names. */
export async function runPolicyTestFile(path: string): Promise<CaseResult[]> {
  const text = await readTextFile(path, "input_unreadable", "test file");
  let doc: unknown;
  try {
    doc = parseYaml(text, { uniqueKeys: true, maxAliasCount: 100 });
  } catch (err) {
    throw new AssayError("input_invalid", `invalid YAML: ${(err as Error).message.split("\n")[0]}`, {
      where: path,
    });
  }
  if (!validateTestFile(doc)) {
    const e = validateTestFile.errors?.[0];
    throw new AssayError(
      "input_invalid",
      `not a policy test file: ${e?.instancePath || "(root)"} ${e?.message ?? ""}`.trim(),
      {
        where: path,
      },
    );
  }
  const file = doc as TestFile;
  const base = dirname(path);
  const policy = compilePolicy(await Promise.all(file.packs.map((p) => loadPack(resolve(base, p)))));
  return file.cases.map((c) => runCase(policy, path, c, { ...(file.context ?? {}), ...(c.context ?? {}) }));
}

function runCase(
  policy: CompiledPolicy,
  file: string,
  c: TestCase,
  context: Record<string, unknown>,
): CaseResult {
  const mismatches: Mismatch[] = [];
  if (c.trace !== undefined) {
    const fired = [
      ...new Set(checkTrace(policy, { calls: c.trace, context }).map((v) => v.rule_id ?? "(call)")),
    ].sort();
    const expected = [...new Set(c.expect.violations ?? [])].sort();
    if (fired.join("\n") !== expected.join("\n"))
      mismatches.push({ field: "violations", expected, actual: fired });
  } else {
    const d = decide(policy, c.call, context);
    const check = (field: "effect" | "rule_id" | "reason_code", actual: unknown) => {
      const expected = c.expect[field];
      if (expected !== undefined && !sameRuleId(field, expected, actual))
        mismatches.push({ field, expected, actual });
    };
    check("effect", d.effect);
    check("rule_id", d.rule_id);
    check("reason_code", d.reason_code);
    if (mismatches.length > 0) mismatches.push({ field: "message", expected: undefined, actual: d.message });
  }
  return { file, name: c.name, passed: mismatches.length === 0, mismatches };
}

// A test may name a rule by its own id even when composition namespaced it as `pack/rule`.
function sameRuleId(field: string, expected: unknown, actual: unknown): boolean {
  if (expected === actual) return true;
  return (
    field === "rule_id" &&
    typeof actual === "string" &&
    typeof expected === "string" &&
    actual.endsWith(`/${expected}`)
  );
}
