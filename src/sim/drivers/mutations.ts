/**
 * The replay driver's mutation set: one seeded perturbation of a recorded trace, drawn from the
 * variants in `mutation-variants.ts`. docs/replay.md is the contract.
 */

import type { Rng } from "../stats/rng.js";
import { type Call, MUTATIONS, type Mutation } from "../target/types.js";
import { splitUrl, VARIANTS, type VariantFn } from "./mutation-variants.js";

/** The one perturbation `mutateTrace` made. */
export interface AppliedMutation {
  readonly kind: Mutation;
  /** 0-based index of the mutated call in the trace. */
  readonly call_index: number;
  /** `tool`, or the argument's path: `arguments.path`, `arguments.paths[1]`, `arguments.h["x.y"]`. */
  readonly path: string;
  /** The variant's stable name (`MUTATION_VARIANTS`). */
  readonly variant: string;
}

/** The variant names of every kind, in the order a variant draw picks them. */
export const MUTATION_VARIANTS: Readonly<Record<Mutation, readonly string[]>> = Object.freeze({
  path_traversal: Object.freeze(VARIANTS.path_traversal.map((v) => v.name)),
  case_confusable: Object.freeze(VARIANTS.case_confusable.map((v) => v.name)),
  url_tricks: Object.freeze(VARIANTS.url_tricks.map((v) => v.name)),
  injected_secret: Object.freeze(VARIANTS.injected_secret.map((v) => v.name)),
});

/** Arguments nested deeper than this (the arguments object is depth 1) are not searched for sites. */
export const MAX_SITE_DEPTH = 16;

/** A string in a call: the tool name, or a string value somewhere in the arguments. */
interface Location {
  readonly call_index: number;
  readonly path: string;
  /** Keys and indexes from `arguments` down; null for the tool name. */
  readonly keys: readonly (string | number)[] | null;
  readonly value: string;
}

/** How a kind's variants act on a location (the whole string, or part of it); null: not a site. */
type Lens = (variant: VariantFn) => VariantFn;

const whole: Lens = (variant) => variant;

/** The variant applied to the host of the URL only, the rest as written. */
const hostOnly: Lens = (variant) => (s, rng) => {
  const p = splitUrl(s);
  return p ? `${p.scheme}${p.userinfo}${variant(p.host, rng)}${p.port}${p.rest}` : s;
};

/** Starts with `/` or `./`, or has a `/` and no `://`; one line. */
const looksLikePath = (s: string): boolean =>
  !/[\r\n]/.test(s) && (s.startsWith("/") || s.startsWith("./") || (s.includes("/") && !s.includes("://")));

/** A host name (not an IP literal) with a letter in it. */
const isNamedHost = (host: string): boolean =>
  /[a-z]/i.test(host) && !host.startsWith("[") && !/^(0x[0-9a-f]+|[0-9.]+)$/i.test(host);

const LENSES: Readonly<Record<Mutation, (loc: Location) => Lens | null>> = {
  path_traversal: (loc) => (loc.keys && looksLikePath(loc.value) ? whole : null),
  case_confusable: (loc) => {
    if (!loc.keys) return whole;
    const url = splitUrl(loc.value);
    return url && isNamedHost(url.host) ? hostOnly : null;
  },
  url_tricks: (loc) => (loc.keys && splitUrl(loc.value) ? whole : null),
  injected_secret: (loc) => (loc.keys ? whole : null),
};

/** Used only to ask whether a variant changes a string; no variant's answer to that depends on it. */
const ZERO_RNG: Rng = { nextFloat: () => 0, nextInt: () => 0 };

/** The lens for `kind` at `loc` when every variant of the kind changes the string there. */
function siteLens(kind: Mutation, loc: Location): Lens | null {
  const lens = LENSES[kind](loc);
  if (!lens) return null;
  return VARIANTS[kind].every((v) => lens(v.apply)(loc.value, ZERO_RNG) !== loc.value) ? lens : null;
}

const pathKey = (key: string): string =>
  /^[A-Za-z_$][\w$-]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;

/** The tool name, then every string in the arguments, depth first, in property order (JSON order, integer-like keys first). */
function locations(call: Call, callIndex: number): Location[] {
  const out: Location[] = [{ call_index: callIndex, path: "tool", keys: null, value: call.tool }];
  const walk = (value: unknown, path: string, keys: (string | number)[], depth: number): void => {
    if (typeof value === "string") {
      out.push({ call_index: callIndex, path, keys, value });
    } else if (depth > MAX_SITE_DEPTH || value === null || typeof value !== "object") {
      return;
    } else if (Array.isArray(value)) {
      value.forEach((v, i) => {
        walk(v, `${path}[${i}]`, [...keys, i], depth + 1);
      });
    } else {
      for (const [k, v] of Object.entries(value)) walk(v, `${path}${pathKey(k)}`, [...keys, k], depth + 1);
    }
  };
  walk(call.arguments, "arguments", [], 1);
  return out;
}

/** A copy of `args` with the string at `keys` replaced. */
function replaceAt(
  args: Call["arguments"],
  keys: readonly (string | number)[],
  value: string,
): Call["arguments"] {
  const copy = structuredClone(args) as Record<string, unknown>;
  let node: Record<string | number, unknown> = copy;
  // INVARIANT: `keys` came from walking `args`, so every step but the last is an object or array.
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  // defineProperty, not assignment: a recorded key `__proto__` stays a plain own property.
  Object.defineProperty(node, keys[keys.length - 1] as string | number, {
    value,
    writable: true,
    enumerable: true,
    configurable: true,
  });
  return copy;
}

/**
 * Perturb a recorded trace with exactly one mutation, or none.
 *
 * With no `mutations`, or when none of them has a site in the trace, the calls come back as
 * recorded, `applied` is null and `rng` is not drawn from. Otherwise three draws: a kind,
 * uniformly among the requested kinds (in `MUTATIONS` order, duplicates ignored) that have a site;
 * a site of that kind, uniformly, in trace order (a call's tool name, then its argument strings
 * depth first); a variant of that kind, uniformly. `injected_secret` variants then draw their
 * random characters. Input calls are never modified: the mutated call is a new object with copied
 * arguments, every other call is returned as is.
 */
export function mutateTrace(
  calls: readonly Call[],
  mutations: readonly Mutation[],
  rng: Rng,
): { calls: Call[]; applied: AppliedMutation | null } {
  const recorded = { calls: [...calls], applied: null };
  if (mutations.length === 0) return recorded;
  const all = calls.flatMap((call, i) => locations(call, i));
  const candidates = MUTATIONS.filter((kind) => mutations.includes(kind))
    .map((kind) => ({
      kind,
      sites: all.flatMap((loc) => {
        const lens = siteLens(kind, loc);
        return lens ? [{ loc, lens }] : [];
      }),
    }))
    .filter((c) => c.sites.length > 0);
  if (candidates.length === 0) return recorded;

  const { kind, sites } = candidates[rng.nextInt(candidates.length)] as (typeof candidates)[number];
  const { loc, lens } = sites[rng.nextInt(sites.length)] as (typeof sites)[number];
  const variants = VARIANTS[kind];
  const variant = variants[rng.nextInt(variants.length)] as (typeof variants)[number];
  const mutated = lens(variant.apply)(loc.value, rng);

  const original = calls[loc.call_index] as Call;
  const call: Call = loc.keys
    ? { ...original, arguments: replaceAt(original.arguments, loc.keys, mutated) }
    : { ...original, tool: mutated };
  const out = [...calls];
  out[loc.call_index] = call;
  return { calls: out, applied: { kind, call_index: loc.call_index, path: loc.path, variant: variant.name } };
}
