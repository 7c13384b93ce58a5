import { AssayError, type Diagnostic } from "../lib/errors.js";
import { schemaValidator } from "../lib/schema-validator.js";
import type { StrictYaml } from "../lib/strict-yaml.js";
import { pointerSegments } from "../policy/json-pointer.js";
import type { ArtifactKind } from "./artifact.js";
import { type Criterion, parseCriterion } from "./criterion.js";
import type { ClaimState, ReadinessLevel } from "./matrix-doc.js";
import { checkYaml, readCheckedYaml } from "./read-checked-yaml.js";

export interface EvidenceSpec {
  kind: ArtifactKind;
  file: string;
  criterion: Criterion;
}

export interface ClaimSpec {
  id: string;
  group: string;
  claim: string;
  required_for: ReadinessLevel;
  evidence: EvidenceSpec[];
  limitations: string | null;
  disclosure: string | null;
  pending: "NOT_STARTED" | "DEFER" | "FUTURE_REQUIRED";
  pending_reason: string | null;
  signal: {
    kind: ArtifactKind;
    file: string;
    expression: Criterion;
    states: Record<string, ClaimState>;
  } | null;
}

export interface Registry {
  path: string;
  sha256: string;
  title: string;
  groups: { id: string; title: string; claims: ClaimSpec[] }[];
}

/** As the schema has it (schemas/matrix-claims.schema.json). */
interface RegistryDoc {
  version: 1;
  title?: string;
  groups: {
    id: string;
    title: string;
    claims: {
      id: string;
      claim: string;
      required_for: ReadinessLevel;
      evidence?: { kind: ArtifactKind; file: string; criterion: string }[];
      limitations?: string;
      disclosure?: string;
      pending?: ClaimSpec["pending"];
      pending_reason?: string;
      state_override_signal?: { file: string; expression: string; states: Record<string, ClaimState> };
    }[];
  }[];
}

const MAX_REGISTRY_BYTES = 4 * 1024 * 1024;
const validate = schemaValidator<RegistryDoc>("matrix-claims");

/** Read, check and compile a claim registry (YAML or JSON); every problem at its `file:line:col`. */
export async function loadRegistry(path: string, display: string): Promise<Registry> {
  const { value, parsed, sha256 } = await readCheckedYaml(path, display, {
    code: "matrix_registry_invalid",
    what: "claim registry",
    maxBytes: MAX_REGISTRY_BYTES,
    validate,
  });
  return compileRegistry(value, parsed, display, sha256);
}

/** A registry from its text (tests, or a registry that is not a file). */
export function parseRegistry(text: string, display: string, sha256: string): Registry {
  const { value, parsed } = checkYaml(text, display, {
    code: "matrix_registry_invalid",
    what: "claim registry",
    validate,
  });
  return compileRegistry(value, parsed, display, sha256);
}

function compileRegistry(doc: RegistryDoc, parsed: StrictYaml, display: string, sha256: string): Registry {
  const at = (pointer: string) => parsed.at(pointerSegments(pointer));
  const problems: Diagnostic[] = [];
  const fail = (pointer: string, message: string) =>
    problems.push({ code: "matrix_registry_invalid", message, where: at(pointer) });
  const compile = (source: string, pointer: string): Criterion | undefined => {
    try {
      return parseCriterion(source);
    } catch (err) {
      fail(pointer, `invalid CEL \`${source}\`: ${(err as Error).message}`);
      return undefined;
    }
  };

  const groupIds = new Set<string>();
  const claimIds = new Set<string>();
  const groups: Registry["groups"] = [];
  for (const [gi, g] of doc.groups.entries()) {
    if (groupIds.has(g.id)) fail(`/groups/${gi}/id`, `group id \`${g.id}\` is used twice`);
    groupIds.add(g.id);
    const claims: ClaimSpec[] = [];
    for (const [ci, c] of g.claims.entries()) {
      const base = `/groups/${gi}/claims/${ci}`;
      if (claimIds.has(c.id)) fail(`${base}/id`, `claim id \`${c.id}\` is used twice`);
      claimIds.add(c.id);
      const evidence: EvidenceSpec[] = [];
      for (const [ei, e] of (c.evidence ?? []).entries()) {
        const criterion = compile(e.criterion, `${base}/evidence/${ei}/criterion`);
        if (criterion) evidence.push({ kind: e.kind, file: e.file, criterion });
      }
      let signal: ClaimSpec["signal"] = null;
      const s = c.state_override_signal;
      if (s !== undefined) {
        const source = (c.evidence ?? []).find((e) => e.file === s.file);
        if (source === undefined) {
          fail(
            `${base}/state_override_signal/file`,
            `\`${s.file}\` is not one of the claim's evidence files`,
          );
        }
        const expression = compile(s.expression, `${base}/state_override_signal/expression`);
        if (expression && source) signal = { kind: source.kind, file: s.file, expression, states: s.states };
      }
      claims.push({
        id: c.id,
        group: g.id,
        claim: c.claim,
        required_for: c.required_for,
        evidence,
        limitations: c.limitations ?? null,
        disclosure: c.disclosure ?? null,
        pending: c.pending ?? "DEFER",
        pending_reason: c.pending_reason ?? null,
        signal,
      });
    }
    groups.push({ id: g.id, title: g.title, claims });
  }
  if (problems.length > 0) throw AssayError.fromDiagnostics(problems);
  return { path: display, sha256, title: doc.title ?? "Evidence matrix", groups };
}
