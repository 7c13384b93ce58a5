import type { ErrorObject } from "ajv";
import type { ToolCall } from "./call-shape.js";
import type { ReasonCode, Violation } from "./decision.js";
import { evaluateNetwork, type FoundTargets } from "./eval-network.js";
import type { ArgsRule, CompiledRule, SequenceRule } from "./ir.js";
import { escapeSegment, pointerSegments } from "./json-pointer.js";
import type { NetworkIR } from "./network-ir.js";
import { reparsedArguments } from "./reparse-args.js";
import type { SessionState } from "./session-state.js";
import { matchAnyFolded, matchAnyToolPattern, matchToolPattern } from "./tool-pattern.js";

/** What one rule made of one call. */
export interface RuleOutcome {
  violations: Violation[];
  /** A `tools` rule listed the tool (allow or deny): the pack's defaults no longer apply to it. */
  mentioned: boolean;
  /** A `tools` rule allowed the tool explicitly. */
  allowed: boolean;
}

// Shared by every call that gets them: frozen through, so no caller can add to them.
const NO_VIOLATIONS = Object.freeze([]) as unknown as Violation[];
const PASS: RuleOutcome = Object.freeze({ violations: NO_VIOLATIONS, mentioned: false, allowed: false });
const ALLOWED: RuleOutcome = Object.freeze({ violations: NO_VIOLATIONS, mentioned: true, allowed: true });
/** Per `tools` rule, the outcome for each tool name it does not deny (PASS or ALLOWED). */
const notDenied = new WeakMap<CompiledRule, Map<string, RuleOutcome>>();
const MAX_MEMO_TOOLS = 4096;
const MAX_SCHEMA_VIOLATIONS = 8;
// How deep JSON re-parsed from a string may nest (the default call depth bound).
const MAX_REPARSED_DEPTH = 64;

/**
 * Run one compiled rule on a call. Plain reads of prebuilt data: nothing here compiles,
 * parses policy or touches the file system. Throws only when the evaluator itself fails.
 */
/** Per-decision work shared by the rules of one decision, computed on first use. */
export interface DecisionScratch {
  /** The CEL variables: `tool`, `args`, `context`. */
  bindings(): Record<string, unknown>;
  /** The tool name's folded spellings (see foldedSpellings). */
  foldedTool(): readonly string[];
  /** The destinations a network check reads (rules with the same `paths` share one scan). */
  targets(network: NetworkIR): FoundTargets;
}

export function evaluateRule(
  rule: CompiledRule,
  call: ToolCall,
  scratch: DecisionScratch,
  state: SessionState,
): RuleOutcome {
  switch (rule.kind) {
    case "tools": {
      // A tool the rule does not deny gets the same outcome on every call: remembered per name.
      let memo = notDenied.get(rule);
      const known = memo?.get(call.tool);
      if (known !== undefined) return known;
      const denied =
        matchAnyToolPattern(rule.deny, call.tool) ?? matchAnyFolded(rule.denyFolded, scratch.foldedTool());
      if (denied) {
        const how = denied.kind === "exact" ? "" : ` by pattern \`${denied.source}\``;
        return outcome(
          [violation(rule, "tool_denied", "/tool", `tool \`${call.tool}\` is denied${how}`)],
          true,
          false,
        );
      }
      const result = matchAnyToolPattern(rule.allow, call.tool) !== undefined ? ALLOWED : PASS;
      if (memo === undefined) {
        memo = new Map();
        notDenied.set(rule, memo);
      }
      // Bounded: tool names come from the client.
      if (memo.size >= MAX_MEMO_TOOLS) memo.clear();
      memo.set(call.tool, result);
      return result;
    }
    case "args":
      return argsOutcome(rule, call.arguments);
    case "expr": {
      const result = rule.program.run(scratch.bindings());
      if (result === true) return PASS;
      if (result === false) {
        return outcome([
          violation(rule, "expr_failed", "/arguments", `assertion \`${rule.program.source}\` is false`),
        ]);
      }
      throw new Error(`assertion \`${rule.program.source}\` gave ${typeof result}, not a bool`);
    }
    case "network": {
      const findings = evaluateNetwork(rule.network, call.arguments, scratch.targets(rule.network));
      if (findings.length === 0) return PASS;
      return outcome(findings.map((f) => violation(rule, "network_denied", f.pointer, f.message)));
    }
    case "sequence":
      return sequenceOutcome(rule, call.tool, state);
    case "limit": {
      const found: Violation[] = [];
      if (rule.maxCalls !== null && state.total + 1 > rule.maxCalls) {
        found.push(
          violation(rule, "limit_exceeded", "/tool", `session call limit of ${rule.maxCalls} reached`),
        );
      }
      for (const p of rule.perTool) {
        if (matchToolPattern(p.pattern, call.tool) && (state.counts[p.slot] ?? 0) + 1 > p.max) {
          found.push(
            violation(
              rule,
              "limit_exceeded",
              "/tool",
              `limit of ${p.max} calls to \`${p.pattern.source}\` reached`,
            ),
          );
        }
      }
      return found.length === 0 ? PASS : outcome(found);
    }
  }
}

/**
 * Validate the arguments in the form (or forms) the rule's `json_strings` names. Re-parsed: as
 * the MCP Python SDK's FastMCP servers hand them to the tool (see reparsedArguments).
 */
function argsOutcome(rule: ArgsRule, args: Record<string, unknown>): RuleOutcome {
  const reparsed = rule.jsonStrings === "as_sent" ? null : reparsedArguments(args, MAX_REPARSED_DEPTH);
  // No string was re-parsed: both forms are the arguments as sent.
  if (!reparsed && rule.validate(args)) return PASS;
  const found: Violation[] = [];
  if (!reparsed) schemaViolations(rule, null, found);
  else {
    if (rule.jsonStrings === "both" && !rule.validate(args)) schemaViolations(rule, null, found);
    for (const key of reparsed.tooDeep) {
      const at = `/arguments/${escapeSegment(key)}`;
      const message = `\`${at}\` holds JSON nested more than ${MAX_REPARSED_DEPTH} levels deep, which a re-parsing server would hand to the tool`;
      found.push(violation(rule, "args_invalid", at, message));
    }
    if (!rule.validate(reparsed.args)) schemaViolations(rule, reparsed.changed, found);
  }
  return found.length === 0 ? PASS : outcome(found.slice(0, MAX_SCHEMA_VIOLATIONS));
}

/**
 * The violations of the validation that just failed, added to `found` (same pointer and message
 * once). `changed`: the keys a re-parsing server replaced; an error inside one points at the
 * string that was sent and says how it was read.
 */
function schemaViolations(rule: ArgsRule, changed: ReadonlySet<string> | null, found: Violation[]): void {
  const add = (path: string, message: string) => {
    if (!found.some((v) => v.path === path && v.message === message))
      found.push(violation(rule, "args_invalid", path, message));
  };
  const errors = (rule.validate.errors ?? []).slice(0, MAX_SCHEMA_VIOLATIONS);
  if (errors.length === 0) add("/arguments", "arguments do not match the schema");
  for (const e of errors) {
    const key = changed ? reparsedKey(e.instancePath, changed) : undefined;
    if (key === undefined) add(argPointer(e), schemaMessage(e));
    else {
      const at = `/arguments/${escapeSegment(key)}`;
      add(at, `${schemaMessage(e)} (as a server that re-parses JSON in strings reads \`${at}\`)`);
    }
  }
}

/** The re-parsed top-level key an error's instance path lies in, if any. */
function reparsedKey(instancePath: string, changed: ReadonlySet<string>): string | undefined {
  const first = pointerSegments(instancePath)[0];
  return first !== undefined && changed.has(first) ? first : undefined;
}

function sequenceOutcome(rule: SequenceRule, tool: string, state: SessionState): RuleOutcome {
  const s = rule.sequence;
  switch (s.op) {
    case "before":
      if ((state.counts[s.slot] ?? 0) === 0) {
        return outcome([
          violation(
            rule,
            "sequence_violation",
            "/tool",
            `\`${tool}\` called before any \`${s.first.source}\``,
          ),
        ]);
      }
      return PASS;
    case "never_after":
      if ((state.counts[s.slot] ?? 0) > 0) {
        return outcome([
          violation(rule, "sequence_violation", "/tool", `\`${tool}\` called after \`${s.trigger.source}\``),
        ]);
      }
      return PASS;
    case "max_calls":
      if ((state.counts[s.slot] ?? 0) + 1 > s.max) {
        return outcome([
          violation(rule, "sequence_violation", "/tool", `more than ${s.max} calls to \`${s.tool.source}\``),
        ]);
      }
      return PASS;
    default:
      return PASS;
  }
}

function outcome(violations: Violation[], mentioned = false, allowed = false): RuleOutcome {
  return { violations, mentioned, allowed };
}

export function violation(rule: CompiledRule, reason: ReasonCode, path: string, message: string): Violation {
  return {
    rule_id: rule.id,
    path,
    message,
    reason_code: reason,
    effect: rule.effect,
    severity: rule.severity,
  };
}

function argPointer(e: ErrorObject): string {
  const base = `/arguments${e.instancePath}`;
  if (e.keyword === "required")
    return `${base}/${String((e.params as { missingProperty: string }).missingProperty)}`;
  if (e.keyword === "additionalProperties") {
    return `${base}/${String((e.params as { additionalProperty: string }).additionalProperty)}`;
  }
  return base;
}

function schemaMessage(e: ErrorObject): string {
  const at = `\`${argPointer(e)}\``;
  switch (e.keyword) {
    case "required":
      return `${at} is required`;
    case "additionalProperties":
      return `${at} is not allowed`;
    case "not":
      return `${at} matches a forbidden form`;
    default:
      return `${at} ${e.message ?? "is invalid"}`;
  }
}
