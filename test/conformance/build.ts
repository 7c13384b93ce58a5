import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import ts from "typescript";

/**
 * The processes a run starts many of (a fixture server per bridged session) start in a third of
 * the time as plain JavaScript as they do through tsx, so they are transpiled (no type check:
 * `npm run typecheck` does that) into `outDir`, which must be inside the repository for their
 * imports of the MCP SDK to resolve.
 */
export const BUILT = [
  "event-store",
  "http-host",
  "fixture-tools",
  "fixture-server",
  "stdio-bridge",
  "loopback-preload",
] as const;

export async function buildHarness(root: string, outDir: string): Promise<void> {
  await writeFile(join(outDir, "package.json"), '{ "type": "module" }\n');
  for (const name of BUILT) {
    const file = join(root, "test", "conformance", `${name}.ts`);
    const out = ts.transpileModule(await readFile(file, "utf8"), {
      fileName: file,
      reportDiagnostics: true,
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022 },
    });
    const errors = out.diagnostics ?? [];
    if (errors.length > 0) {
      throw new Error(`${file}: ${ts.flattenDiagnosticMessageText(errors[0]?.messageText ?? "", " ")}`);
    }
    await writeFile(join(outDir, `${name}.js`), out.outputText);
  }
}
