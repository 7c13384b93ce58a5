import { artifactInvalid, whereAt } from "./fault.js";
import type { JsonKind } from "./json-kind.js";
import { expectField, expectObject, expectOneOf } from "./shape.js";

const WHAT = "an `assay audit-kit verify --json` result";

/**
 * `assay audit-kit verify --json`: `{dir, valid, verdict, keyid, rows}` (src/cli/actions/audit-kit.ts,
 * src/audit-kit/verify.ts). `valid` must agree with `verdict`, and every row name its item and status.
 */
export const auditKitVerify: JsonKind = {
  what: WHAT,
  judge(doc, at) {
    const obj = expectObject(doc, at, WHAT);
    const valid = expectField(obj, "valid", "boolean", at, WHAT);
    const verdict = expectOneOf(obj, "verdict", ["valid", "invalid"], at, WHAT);
    expectField(obj, "keyid", "string", at, WHAT);
    const rows = expectField(obj, "rows", "array", at, WHAT) as unknown[];
    rows.forEach((row, i) => {
      const r = expectObject(row, at, WHAT, `/rows/${i}`);
      expectField(r, "item", "string", at, WHAT, `/rows/${i}/item`);
      expectOneOf(r, "status", ["ok", "fail"], at, WHAT, `/rows/${i}/status`);
    });
    if (valid !== (verdict === "valid"))
      throw artifactInvalid(
        `not ${WHAT}: \`valid\` ${String(valid)} disagrees with \`verdict\` \`${verdict}\``,
        whereAt(at, "/valid"),
      );
    return { data: obj, time: null };
  },
};
