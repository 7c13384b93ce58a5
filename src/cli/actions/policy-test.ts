import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { AssayError, EXIT } from "../../lib/errors.js";
import { type CaseResult, runPolicyTestFile } from "../../policy/policy-test.js";
import { printJson } from "../io.js";

const TEST_FILE = /\.test\.(ya?ml|json)$/;

/** Test files named on the command line; directories are searched for `*.test.yaml|yml|json`. */
async function findTestFiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const p of paths) {
    let s: Awaited<ReturnType<typeof stat>>;
    try {
      s = await stat(p);
    } catch (err) {
      throw new AssayError("input_unreadable", `cannot read: ${(err as NodeJS.ErrnoException).code ?? err}`, {
        where: p,
      });
    }
    if (!s.isDirectory()) {
      out.push(p);
      continue;
    }
    const entries = await readdir(p, { recursive: true });
    for (const e of entries.sort()) {
      // A folder named like a test file is searched (its files are listed too), not read.
      if (TEST_FILE.test(e) && (await stat(join(p, e)).catch(() => undefined))?.isDirectory() !== true)
        out.push(join(p, e));
    }
  }
  if (out.length === 0)
    throw new AssayError("usage", `no policy test files (*.test.yaml) under ${paths.join(", ")}`);
  return out;
}

/** `assay policy test`: run every case of the test files found under `paths`. */
export async function policyTest(
  paths: string[],
  opts: { json?: boolean; verbose?: boolean },
): Promise<number> {
  const results: CaseResult[] = [];
  for (const f of await findTestFiles(paths)) results.push(...(await runPolicyTestFile(f)));
  const failed = results.filter((r) => !r.passed);
  if (opts.json) {
    printJson({ passed: results.length - failed.length, failed: failed.length, results });
  } else {
    for (const r of results) {
      if (r.passed) {
        if (opts.verbose) process.stdout.write(`PASS  ${r.file}: ${r.name}\n`);
        continue;
      }
      process.stdout.write(`FAIL  ${r.file}: ${r.name}\n`);
      for (const m of r.mismatches) {
        if (m.expected !== undefined) process.stdout.write(`  - ${m.field}: ${JSON.stringify(m.expected)}\n`);
        process.stdout.write(`  + ${m.field}: ${JSON.stringify(m.actual)}\n`);
      }
    }
    process.stdout.write(`${"-".repeat(40)}\nPASS: ${results.length - failed.length}/${results.length}`);
    process.stdout.write(failed.length > 0 ? `  FAIL: ${failed.length}/${results.length}\n` : "\n");
  }
  return failed.length > 0 ? EXIT.finding : EXIT.ok;
}
