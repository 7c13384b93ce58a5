import type { ValidateFunction } from "ajv";
import { canonicalDigest } from "../lib/canonical-json.js";
import { AssayError, type Diagnostic } from "../lib/errors.js";
import { CelCompiler, type CelProgram, celBindings } from "./cel.js";
import type {
  CallLimits,
  CompiledPack,
  CompiledPolicy,
  CompiledRule,
  Counter,
  RuleBase,
  SequenceIR,
  SequenceRule,
} from "./ir.js";
import { pointerToPath } from "./json-pointer.js";
import type { LoadedPack } from "./load-pack.js";
import { compileNetwork } from "./network-ir.js";
import { normalizePack } from "./normalize-pack.js";
import { type RuleDoc, ruleKind } from "./pack-types.js";
import { ruleConsultedFor } from "./rule-scope.js";
import { closest } from "./suggest.js";
import { foldToolName, parseToolPattern, type ToolPattern } from "./tool-pattern.js";

export const DEFAULT_CALL_LIMITS: CallLimits = Object.freeze({
  maxDepth: 64,
  maxStringLength: 1024 * 1024,
  maxTotalBytes: 4 * 1024 * 1024,
});

export interface CompileOptions {
  limits?: Partial<CallLimits>;
}

/**
 * Compiles one `args` schema into its validator; throws when the schema is invalid. `at` names
 * the rule (pack index, rule index in that pack), which the pack cache keys stored code by.
 */
export type SchemaCompiler = (schema: unknown, at: { pack: number; rule: number }) => ValidateFunction;

const RESERVED_RULE_IDS = new Set(["defaults"]);
const BARE_IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_.:-]*$/;

/**
 * Compile loaded packs into one immutable policy, `args` schemas by `schemas` (compile.ts's
 * compilePolicy gives it ajv). Every JSON Schema validator, regex, CEL program and CIDR set is
 * built here; a pack that cannot be compiled fails with every problem listed.
 */
export function compileLoaded(
  packs: readonly LoadedPack[],
  schemas: SchemaCompiler,
  options: CompileOptions = {},
): CompiledPolicy {
  if (packs.length === 0) throw new AssayError("policy_empty", "no policy pack given");
  const normalized = packs.map((p) => normalizePack(p.doc));
  const diagnostics: Diagnostic[] = [];
  let current: LoadedPack | undefined;
  // Compilers below report JSON pointers; this turns them into `file:line:col: rules[3].expr: ...`.
  const attempt = <T>(fn: () => T): T | undefined => {
    try {
      return fn();
    } catch (err) {
      if (!(err instanceof AssayError)) throw err;
      for (const d of err.diagnostics) {
        const pointer = d.where?.startsWith("/") ? d.where : undefined;
        diagnostics.push(
          pointer && current
            ? {
                code: d.code,
                message: `${pointerToPath(pointer)}: ${d.message}`,
                where: current.locate(pointer),
              }
            : d,
        );
      }
      return undefined;
    }
  };

  const cel = new CelCompiler();

  // Rule ids collide across packs only "where needed": then both become `pack/rule`.
  const owners = new Map<string, Set<string>>();
  for (const p of normalized)
    for (const r of p.rules) owners.set(r.id, (owners.get(r.id) ?? new Set()).add(p.id));
  const packIds = new Set<string>();
  for (const [i, p] of normalized.entries()) {
    if (packIds.has(p.id)) {
      diagnostics.push({
        code: "pack_duplicate_rule",
        message: `pack id \`${p.id}\` is used by two packs`,
        where: packs[i]?.locate("/id"),
      });
    }
    packIds.add(p.id);
  }

  const rules: CompiledRule[] = [];
  const compiledPacks: CompiledPack[] = [];
  const counters: Counter[] = [];
  const counter = (pattern: ToolPattern): number => {
    counters.push(Object.freeze({ slot: counters.length, pattern }));
    return counters.length - 1;
  };

  for (const [packIndex, pack] of normalized.entries()) {
    const loaded = packs[packIndex] as LoadedPack;
    current = loaded;
    const predicates = new Map<string, CelProgram>();
    for (const [name, source] of Object.entries(pack.predicates ?? {})) {
      const program = attempt(() => cel.compile(source, `/predicates/${name}`));
      if (program) predicates.set(name, program);
    }
    const seen = new Set<string>();
    const knownTools = new Set<string>();
    for (const [ruleIndex, rule] of pack.rules.entries()) {
      const at = (suffix = "") => `/rules/${ruleIndex}${suffix}`;
      if (seen.has(rule.id) || RESERVED_RULE_IDS.has(rule.id)) {
        diagnostics.push({
          code: "pack_duplicate_rule",
          message: RESERVED_RULE_IDS.has(rule.id)
            ? `rules[${ruleIndex}].id: \`${rule.id}\` is reserved`
            : `rules[${ruleIndex}].id: duplicate rule id \`${rule.id}\``,
          where: loaded.locate(at("/id")),
        });
        continue;
      }
      seen.add(rule.id);
      const when = (rule.when ?? []).map((w, k) => {
        const named = predicates.get(w);
        if (named) return named;
        if (BARE_IDENTIFIER.test(w) && !w.includes(".")) {
          const hint = closest(w, predicates.keys());
          diagnostics.push({
            code: "pack_unknown_predicate",
            message: `rules[${ruleIndex}].when[${k}]: unknown predicate \`${w}\`${hint ? `; did you mean \`${hint}\`?` : ""}`,
            where: loaded.locate(at(`/when/${k}`)),
          });
          return undefined;
        }
        return attempt(() => cel.compile(w, at(`/when/${k}`)));
      });
      const base: Omit<RuleBase, "scope"> = {
        index: rules.length,
        id: (owners.get(rule.id)?.size ?? 0) > 1 ? `${pack.id}/${rule.id}` : rule.id,
        qualifiedId: `${pack.id}/${rule.id}`,
        packIndex,
        packId: pack.id,
        dimension: rule.dimension,
        severity: rule.severity,
        effect: rule.effect ?? "deny",
        message: rule.message,
        cost: rule.cost ?? 1,
        mappings: Object.freeze((rule.mappings ?? []).map((m) => Object.freeze({ ...m }))),
        when: Object.freeze(when.filter((w): w is CelProgram => w !== undefined)),
        whenNames: Object.freeze((rule.when ?? []).filter((_, k) => when[k] !== undefined)),
      };
      const compiled = attempt(() =>
        compileRule(rule, base, { schemas, cel, at, place: { pack: packIndex, rule: ruleIndex }, counter }),
      );
      if (!compiled) continue;
      if (compiled.kind === "tools")
        for (const p of compiled.allow) if (p.kind === "exact") knownTools.add(p.source);
      rules.push(Object.freeze(compiled));
    }
    compiledPacks.push(
      Object.freeze({
        index: packIndex,
        id: pack.id,
        version: pack.version,
        defaults: pack.defaults ?? "deny",
        defaultsRuleId: normalized.length > 1 ? `${pack.id}/defaults` : "defaults",
        knownTools: Object.freeze([...knownTools].sort()),
      }),
    );
  }
  if (diagnostics.length > 0) throw AssayError.fromDiagnostics(diagnostics);

  const { byTool, otherTools } = indexRules(rules);
  return Object.freeze({
    digest: canonicalDigest({ packs: normalized }),
    packs: Object.freeze(compiledPacks),
    rules: Object.freeze(rules),
    ruleById: new Map(rules.map((r) => [r.id, r])),
    byTool,
    otherTools,
    offlineRules: Object.freeze(rules.filter((r): r is SequenceRule => r.kind === "sequence" && !r.online)),
    counters: Object.freeze(counters),
    limits: Object.freeze({ ...DEFAULT_CALL_LIMITS, ...options.limits }),
    celBindings,
  });
}

interface RuleCompileContext {
  schemas: SchemaCompiler;
  cel: CelCompiler;
  at: (suffix?: string) => string;
  /** The rule's pack index and index in its pack (what SchemaCompiler is told). */
  place: { pack: number; rule: number };
  counter: (pattern: ToolPattern) => number;
}

function compileRule(rule: RuleDoc, base: Omit<RuleBase, "scope">, ctx: RuleCompileContext): CompiledRule {
  const patterns = (list: readonly string[] | undefined) => Object.freeze((list ?? []).map(parseToolPattern));
  switch (ruleKind(rule)) {
    case "tools": {
      const allow = patterns(rule.tools?.allow);
      const deny = patterns(rule.tools?.deny);
      const denyFolded = Object.freeze(deny.map((p) => parseToolPattern(foldToolName(p.source))));
      // Other spellings of a denied name reach the rule through denyFolded (see rule-scope.ts).
      const scope = Object.freeze([...deny, ...allow]);
      return { ...base, kind: "tools", allow, deny, denyFolded, scope };
    }
    case "args": {
      const check = rule.args as NonNullable<RuleDoc["args"]>;
      let validate: ValidateFunction;
      try {
        validate = ctx.schemas(check.schema, ctx.place);
      } catch (err) {
        const code = err instanceof AssayError ? err.code : "pack_invalid_schema";
        throw new AssayError(code, `invalid JSON Schema: ${(err as Error).message}`, {
          where: ctx.at("/args/schema"),
          cause: err,
        });
      }
      const jsonStrings = check.json_strings ?? "as_sent";
      return { ...base, kind: "args", validate, jsonStrings, scope: patterns(check.tools) };
    }
    case "expr": {
      const check = rule.expr as NonNullable<RuleDoc["expr"]>;
      const program = ctx.cel.compile(check.assert, ctx.at("/expr/assert"));
      return { ...base, kind: "expr", program, scope: patterns(check.tools) };
    }
    case "network": {
      const check = rule.network as NonNullable<RuleDoc["network"]>;
      const network = compileNetwork(check, ctx.at("/network"));
      return { ...base, kind: "network", network, scope: check.tools ? patterns(check.tools) : null };
    }
    case "sequence":
      return compileSequence(rule.sequence as NonNullable<RuleDoc["sequence"]>, base, ctx);
    case "limit": {
      const check = rule.limit as NonNullable<RuleDoc["limit"]>;
      const perTool = Object.entries(check.per_tool ?? {}).map(([p, max]) => {
        const pattern = parseToolPattern(p);
        return Object.freeze({ pattern, max, slot: ctx.counter(pattern) });
      });
      const scope = check.max_calls !== undefined ? null : Object.freeze(perTool.map((p) => p.pattern));
      return {
        ...base,
        kind: "limit",
        maxCalls: check.max_calls ?? null,
        perTool: Object.freeze(perTool),
        scope,
      };
    }
  }
}

function compileSequence(
  check: NonNullable<RuleDoc["sequence"]>,
  base: Omit<RuleBase, "scope">,
  ctx: RuleCompileContext,
): SequenceRule {
  const p = parseToolPattern;
  let sequence: SequenceIR;
  let scope: ToolPattern[] = [];
  if (check.before) {
    sequence = {
      op: "before",
      first: p(check.before.first),
      next: p(check.before.then),
      slot: ctx.counter(p(check.before.first)),
    };
    scope = [sequence.next];
  } else if (check.never_after) {
    const trigger = p(check.never_after.trigger);
    sequence = {
      op: "never_after",
      trigger,
      forbidden: p(check.never_after.forbidden),
      slot: ctx.counter(trigger),
    };
    scope = [sequence.forbidden];
  } else if (check.max_calls) {
    const tool = p(check.max_calls.tool);
    sequence = { op: "max_calls", tool, max: check.max_calls.max, slot: ctx.counter(tool) };
    scope = [tool];
  } else if (check.require) {
    sequence = { op: "require", tool: p(check.require.tool) };
  } else if (check.eventually) {
    sequence = { op: "eventually", tool: p(check.eventually.tool), within: check.eventually.within ?? null };
  } else if (check.after) {
    sequence = {
      op: "after",
      trigger: p(check.after.trigger),
      next: p(check.after.then),
      within: check.after.within,
    };
  } else {
    throw new AssayError(
      "pack_schema",
      "a sequence check needs one of require, before, never_after, max_calls, eventually, after",
      {
        where: ctx.at("/sequence"),
      },
    );
  }
  const online = sequence.op === "before" || sequence.op === "never_after" || sequence.op === "max_calls";
  return {
    ...base,
    kind: "sequence",
    sequence: Object.freeze(sequence),
    online,
    scope: Object.freeze(scope),
  };
}

/** Precompute, for every exactly-named tool, the rules a decision must consult, in rule order. */
function indexRules(rules: readonly CompiledRule[]): Pick<CompiledPolicy, "byTool" | "otherTools"> {
  const consulted = Object.freeze(rules.filter((r) => r.kind !== "sequence" || r.online));
  const exactNames = new Set<string>();
  for (const r of consulted) for (const p of r.scope ?? []) if (p.kind === "exact") exactNames.add(p.source);
  const byTool = new Map<string, readonly CompiledRule[]>();
  for (const name of [...exactNames].sort()) {
    byTool.set(name, Object.freeze(consulted.filter((r) => ruleConsultedFor(r, name))));
  }
  return { byTool, otherTools: consulted };
}
