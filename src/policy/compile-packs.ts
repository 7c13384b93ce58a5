import { compilePolicy } from "./compile.js";
import type { CompiledPolicy } from "./ir.js";
import { loadPack } from "./load-pack.js";

/** Load and compile pack files: the shared first step of every command that decides. */
export async function compilePacks(paths: readonly string[]): Promise<CompiledPolicy> {
  return compilePolicy(await Promise.all(paths.map((p) => loadPack(p))));
}
