import type { Command } from "commander";
import { compilePolicy } from "../policy/compile.js";
import type { CompiledPolicy } from "../policy/ir.js";
import { loadPack } from "../policy/load-pack.js";
import { CHECK_KINDS, DIMENSIONS } from "../policy/pack-types.js";
import { printJson } from "./io.js";

/** Load and compile packs: the shared first step of every policy command. */
export async function compilePacks(paths: readonly string[]): Promise<CompiledPolicy> {
  return compilePolicy(await Promise.all(paths.map((p) => loadPack(p))));
}

export function registerPolicyCheck(
  policy: Command,
  run: (fn: () => Promise<number>) => Promise<void>,
): void {
  policy
    .command("check")
    .description("validate and compile packs; print rule counts and the policy digest")
    .argument("<pack...>", "policy pack files (YAML or JSON)")
    .option("--json", "print a JSON summary")
    .addHelpText("after", "\nExit codes: 0 the packs compile, 2 a pack is invalid (every problem is listed).")
    .action((packs: string[], opts: { json?: boolean }) =>
      run(async () => {
        const compiled = await compilePacks(packs);
        const byKind = Object.fromEntries(
          CHECK_KINDS.map((k) => [k, compiled.rules.filter((r) => r.kind === k).length]),
        );
        const byDimension = Object.fromEntries(
          DIMENSIONS.map((d) => [d, compiled.rules.filter((r) => r.dimension === d).length]),
        );
        const summary = {
          packs: compiled.packs.map((p, i) => ({
            source: packs[i],
            id: p.id,
            version: p.version,
            defaults: p.defaults,
            rules: compiled.rules.filter((r) => r.packIndex === i).length,
          })),
          rules: compiled.rules.length,
          by_kind: byKind,
          by_dimension: byDimension,
          digest: compiled.digest,
        };
        if (opts.json) {
          printJson(summary);
          return 0;
        }
        for (const p of summary.packs) {
          process.stdout.write(
            `ok  ${p.source}  ${p.id}@${p.version}  ${p.rules} rules  defaults: ${p.defaults}\n`,
          );
        }
        const fmt = (o: Record<string, number>) =>
          Object.entries(o)
            .map(([k, v]) => `${k} ${v}`)
            .join(", ");
        process.stdout.write(`rules:        ${summary.rules}\n`);
        process.stdout.write(`by kind:      ${fmt(byKind)}\n`);
        process.stdout.write(`by dimension: ${fmt(byDimension)}\n`);
        process.stdout.write(`digest:       ${compiled.digest}\n`);
        return 0;
      }),
    );
}
