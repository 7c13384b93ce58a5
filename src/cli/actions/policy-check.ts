import { compilePacks } from "../../policy/compile-packs.js";
import { CHECK_KINDS, DIMENSIONS } from "../../policy/pack-types.js";
import { printJson } from "../io.js";
import { packCacheFromEnv } from "../pack-cache.js";

/** `assay policy check`: compile packs, print rule counts and the policy digest. */
export async function policyCheck(packs: string[], opts: { json?: boolean }): Promise<number> {
  const compiled = await compilePacks(packs, { cache: packCacheFromEnv() });
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
}
