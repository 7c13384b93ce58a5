import { schemaValidator } from "../../lib/schema-validator.js";
import { artifactInvalid, schemaFault, whereAt } from "./fault.js";
import type { JsonKind } from "./json-kind.js";

const WHAT = "an `assay audit-kit verify --json` result";

/**
 * `assay audit-kit verify --json` (src/cli/actions/audit-kit.ts,
 * schemas/audit-kit-verify-result.schema.json): `{dir, valid, verdict, keyid, rows}`. `valid` must
 * agree with `verdict`.
 */
export const auditKitVerify: JsonKind = {
  what: WHAT,
  judge(doc, at) {
    const validate = schemaValidator<{ valid: boolean; verdict: string }>("audit-kit-verify-result");
    if (!validate(doc)) throw schemaFault(validate.errors, at, WHAT);
    if (doc.valid !== (doc.verdict === "valid"))
      throw artifactInvalid(
        `not ${WHAT}: \`valid\` ${String(doc.valid)} disagrees with \`verdict\` \`${doc.verdict}\``,
        whereAt(at, "/valid"),
      );
    return { data: doc as Record<string, unknown>, time: null };
  },
};
