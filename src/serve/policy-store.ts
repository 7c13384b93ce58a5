import { createHash } from "node:crypto";
import { AssayError } from "../lib/errors.js";
import { compilePolicy } from "../policy/compile.js";
import type { CompiledPolicy } from "../policy/ir.js";
import { type LoadedPack, loadPack, parsePack } from "../policy/load-pack.js";
import type { PolicySource } from "./config-types.js";
import type { ServeMetrics } from "./metrics.js";

/** What GET /v1/policies says about a policy (schemas/serve-policy.schema.json). */
export interface PolicySummary {
  readonly id: string;
  readonly version: string;
  readonly digest: string;
  readonly packs: readonly { readonly id: string; readonly version: string }[];
  readonly rules: { readonly total: number; readonly by_kind: Readonly<Record<string, number>> };
  readonly source: "config" | "api";
}

export interface LoadedPolicy {
  readonly summary: PolicySummary;
  readonly compiled: CompiledPolicy;
}

// Compiled policies by the sha256 of their pack texts: loading the same packs again compiles nothing.
const COMPILED_CACHE_SIZE = 64;

/**
 * The policies the service decides with, by id. A policy is compiled once (STYLE.md: compile once,
 * never on the decision path); replacing one swaps the reference, so a request in flight finishes
 * with the policy it started with.
 */
export class PolicyStore {
  private readonly byId = new Map<string, LoadedPolicy>();
  private readonly compiled = new Map<string, CompiledPolicy>();

  constructor(private readonly metrics: ServeMetrics) {}

  get(id: string): LoadedPolicy | undefined {
    return this.byId.get(id);
  }

  list(): PolicySummary[] {
    return [...this.byId.values()]
      .map((p) => p.summary)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get size(): number {
    return this.byId.size;
  }

  /** Load the config's policies; a pack that fails stops the start (exit 2 with file:line). */
  async loadSources(sources: readonly PolicySource[]): Promise<void> {
    const seen = new Set<string>();
    for (const s of sources) {
      const t0 = process.hrtime.bigint();
      let packs: LoadedPack[];
      try {
        packs = await Promise.all(s.packs.map((p) => loadPack(p)));
      } catch (err) {
        this.metrics.compiled("error", 0);
        // A pack that cannot be read at all is named at the config line that refers to it; a pack
        // that reads but does not compile keeps its own file:line:col.
        if (err instanceof AssayError && err.code === "pack_unreadable" && s.where !== undefined) {
          throw new AssayError("pack_unreadable", `${err.message} (${err.where})`, {
            where: s.where,
            cause: err,
          });
        }
        throw err;
      }
      const { policy } = this.put(packs, s.id, "config", t0);
      if (seen.has(policy.summary.id)) {
        throw new AssayError("serve_config_invalid", `two policies have the id \`${policy.summary.id}\``, {
          where: s.packs[0] as string,
        });
      }
      seen.add(policy.summary.id);
    }
  }

  /**
   * Compile pack texts sent to POST /v1/policies and load them under `id` (the single pack's id
   * when absent). Throws the compiler's AssayError (pack_*) for a bad pack.
   */
  loadTexts(
    texts: readonly string[],
    id: string | undefined,
    maxPolicies: number,
  ): { policy: LoadedPolicy; created: boolean; cached: boolean } {
    const t0 = process.hrtime.bigint();
    let packs: LoadedPack[];
    try {
      packs = texts.map((t, i) => parsePack(t, `packs/${i}`));
    } catch (err) {
      this.metrics.compiled("error", 0);
      throw err;
    }
    const policyId = policyIdOf(packs, id);
    const existing = policyId === undefined ? undefined : this.byId.get(policyId);
    // The config's policies are what was reviewed and deployed: a token that may compile packs
    // must not be able to swap one of them for its own.
    if (existing?.summary.source === "config") {
      throw new PolicyRefused(
        "policy_from_config",
        `policy \`${policyId}\` comes from the config and cannot be replaced at run time`,
      );
    }
    if (existing === undefined && this.byId.size >= maxPolicies) {
      throw new PolicyRefused(
        "too_many_policies",
        `${this.byId.size} policies are loaded, the most limits.max_policies allows`,
      );
    }
    return this.put(packs, id, "api", t0);
  }

  private put(
    packs: readonly LoadedPack[],
    id: string | undefined,
    source: "config" | "api",
    t0: bigint,
  ): { policy: LoadedPolicy; created: boolean; cached: boolean } {
    const key = packsKey(packs);
    let compiled = this.compiled.get(key);
    const cached = compiled !== undefined;
    this.metrics.cache("compiled", cached);
    if (compiled === undefined) {
      try {
        compiled = compilePolicy(packs);
      } catch (err) {
        this.metrics.compiled("error", 0);
        throw err;
      }
      this.metrics.compiled("ok", Number(process.hrtime.bigint() - t0) / 1e9);
      this.compiled.set(key, compiled);
      if (this.compiled.size > COMPILED_CACHE_SIZE)
        this.compiled.delete(this.compiled.keys().next().value as string);
    }
    const policyId = policyIdOf(packs, id);
    if (policyId === undefined)
      throw new AssayError("input_invalid", "a policy of several packs needs an `id`");
    const policy: LoadedPolicy = { summary: summarize(policyId, compiled, source), compiled };
    const created = !this.byId.has(policyId);
    this.byId.set(policyId, policy);
    this.metrics.policiesLoaded(this.byId.size);
    return { policy, created, cached };
  }
}

/** A load the store refuses whatever the packs say (the route answers 409). */
export class PolicyRefused extends Error {
  constructor(
    readonly code: "policy_from_config" | "too_many_policies",
    message: string,
  ) {
    super(message);
  }
}

/** The id a policy of `packs` is loaded under: the one given, else a single pack's own. */
function policyIdOf(packs: readonly LoadedPack[], id: string | undefined): string | undefined {
  return id ?? (packs.length === 1 ? packs[0]?.doc.id : undefined);
}

function packsKey(packs: readonly LoadedPack[]): string {
  const h = createHash("sha256");
  for (const p of packs) h.update(JSON.stringify(p.doc)).update("\0");
  return h.digest("hex");
}

function summarize(id: string, compiled: CompiledPolicy, source: "config" | "api"): PolicySummary {
  const byKind: Record<string, number> = {};
  for (const r of compiled.rules) byKind[r.kind] = (byKind[r.kind] ?? 0) + 1;
  const packs = compiled.packs.map((p) => ({ id: p.id, version: p.version }));
  return Object.freeze({
    id,
    version: packs.map((p) => p.version).join("+"),
    digest: compiled.digest,
    packs,
    rules: { total: compiled.rules.length, by_kind: byKind },
    source,
  });
}
